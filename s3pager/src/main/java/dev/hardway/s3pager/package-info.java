/** On-demand paging of S3 objects with {@code userfaultfd}. */
@NullMarked
package dev.hardway.s3pager;

import org.jspecify.annotations.NullMarked;
