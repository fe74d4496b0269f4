/** Implementation of the tiers; not exported. */
@NullMarked
package dev.hardway.logtiers.internal;

import org.jspecify.annotations.NullMarked;
