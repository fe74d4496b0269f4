/**
 * Implementation details of the test kit; not exported, subject to change without notice.
 */
@NullMarked
package dev.hardway.testkit.internal;

import org.jspecify.annotations.NullMarked;
