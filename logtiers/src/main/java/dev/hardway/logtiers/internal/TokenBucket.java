package dev.hardway.logtiers.internal;

/**
 * A token bucket on the caller's nano clock: it fills at a steady rate up to one second's worth. A cost larger than
 * the whole bucket (a 1 MiB aggregate against a shard limited to a few percent) may be taken when the bucket is full,
 * which leaves it in debt: the long-run rate is the limit either way, and nothing waits for ever. Not thread-safe.
 */
public final class TokenBucket {
  private final double perNano;
  private final double capacity;
  private double tokens;
  private long last;

  /**
   * A full bucket.
   *
   * @param perSecond the rate, and the capacity
   * @param nowNanos the clock now
   */
  public TokenBucket(double perSecond, long nowNanos) {
    if (!(perSecond > 0)) {
      throw new IllegalArgumentException("rate must be positive, got " + perSecond);
    }
    this.perNano = perSecond / 1e9;
    this.capacity = perSecond;
    this.tokens = perSecond;
    this.last = nowNanos;
  }

  /**
   * Whether {@code cost} may be taken now.
   *
   * @param cost tokens
   * @param nowNanos the clock now
   * @return true when there are that many tokens (or the bucket is full)
   */
  public boolean available(double cost, long nowNanos) {
    refill(nowNanos);
    return tokens >= Math.min(cost, capacity);
  }

  /**
   * Takes tokens, possibly into debt; call after {@link #available}.
   *
   * @param cost tokens
   */
  public void take(double cost) {
    tokens -= cost;
  }

  /**
   * Empties the bucket (keeping any debt): the destination said the limit was exceeded.
   *
   * @param nowNanos the clock now
   */
  public void empty(long nowNanos) {
    refill(nowNanos);
    tokens = Math.min(tokens, 0);
  }

  /**
   * Tokens now (negative in debt).
   *
   * @param nowNanos the clock now
   * @return the tokens
   */
  public double tokens(long nowNanos) {
    refill(nowNanos);
    return tokens;
  }

  private void refill(long nowNanos) {
    long elapsed = nowNanos - last;
    if (elapsed > 0) {
      tokens = Math.min(capacity, tokens + elapsed * perNano);
      last = nowNanos;
    }
  }
}
