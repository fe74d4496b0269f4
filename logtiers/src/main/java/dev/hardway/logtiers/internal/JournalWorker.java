package dev.hardway.logtiers.internal;

import dev.hardway.logtiers.S3Tier;

/** Placeholder while the tier is being written; replaced before this module lands. */
public final class JournalWorker implements TierWorker {
  /**
   * Not yet written.
   *
   * @param config the tier
   * @param channel its ring
   * @param context the owner's context
   */
  public JournalWorker(S3Tier config, TierChannel channel, TierContext context) {}

  @Override
  public void start() {
    throw new UnsupportedOperationException("not yet written");
  }

  @Override
  public void close(long deadlineNanos) {}
}
