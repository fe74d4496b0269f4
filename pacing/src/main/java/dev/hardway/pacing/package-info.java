/**
 * Global, eventually consistent spend counters: a {@link dev.hardway.pacing.Pacer} in every box decides locally in
 * nanoseconds and never spends beyond the escrow {@link dev.hardway.pacing.Lease} it holds; boxes report cumulative
 * {@link dev.hardway.pacing.SpendReport}s, and a coordinator allocates the remaining budget as leases in an
 * {@link dev.hardway.pacing.Allocation}.
 */
@NullMarked
package dev.hardway.pacing;

import org.jspecify.annotations.NullMarked;
