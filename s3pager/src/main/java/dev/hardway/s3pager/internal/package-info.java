/** Implementation: FFM bindings, the chunk engine, the handler process and its protocol. Not exported. */
@NullMarked
package dev.hardway.s3pager.internal;

import org.jspecify.annotations.NullMarked;
