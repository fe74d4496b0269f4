package dev.hardway.logtiers;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * When a journal forces its writes to the disk. Whatever the policy, {@link LogTiers#awaitDurable} forces at once,
 * and records written to the journal file survive a crash of the process (they are in the kernel's page cache); the
 * policy decides what a power loss or kernel crash may take.
 *
 * <p>Reference figures for a 2-core cloud machine (not re-measured by this project's benchmarks, which found the
 * policy invisible in end-to-end throughput): a 4 KiB append plus fdatasync takes 0.3 ms at the median and 6.3 ms at
 * p99, so syncing every small batch costs a core's worth of waiting at high rates. Group commit — one sync for
 * everything written since the last — is what every policy here does.
 */
public final class FsyncPolicy {
  private static final FsyncPolicy EVERY_BATCH = new FsyncPolicy(Duration.ZERO);
  private static final FsyncPolicy NEVER = new FsyncPolicy(null);

  private final @Nullable Duration interval;

  private FsyncPolicy(@Nullable Duration interval) {
    this.interval = interval;
  }

  /**
   * Sync after every batch the writer drains from the ring: the smallest window, the highest cost.
   *
   * @return the policy
   */
  public static FsyncPolicy everyBatch() {
    return EVERY_BATCH;
  }

  /**
   * Sync at most once per interval (and at every roll, and whenever someone awaits durability).
   *
   * @param interval 1 ms to 10 s
   * @return the policy
   */
  public static FsyncPolicy interval(Duration interval) {
    Options.within("fsync interval", interval, Duration.ofMillis(1), Duration.ofSeconds(10));
    return new FsyncPolicy(interval);
  }

  /**
   * Sync only at a roll and when someone awaits durability: a process crash loses nothing written, a power loss may
   * lose what the kernel had not flushed.
   *
   * @return the policy
   */
  public static FsyncPolicy never() {
    return NEVER;
  }

  /**
   * The longest time between syncs: zero for every batch, or empty for never.
   *
   * @return the interval, or {@code null} for {@link #never()}
   */
  public @Nullable Duration interval() {
    return interval;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof FsyncPolicy p && Objects.equals(p.interval, interval);
  }

  @Override
  public int hashCode() {
    return Objects.hashCode(interval);
  }

  @Override
  public String toString() {
    return interval == null ? "never" : interval.isZero() ? "every-batch" : "interval(" + interval + ")";
  }
}
