/**
 * A read-through cross-region cache: {@link dev.hardway.procache.ProCache} answers every {@code get} within its
 * deadline from an in-process tier, the regional Redis tier or the home region, and never lets an older
 * {@link dev.hardway.procache.Versioned version} replace a newer one.
 */
@NullMarked
package dev.hardway.procache;

import org.jspecify.annotations.NullMarked;
