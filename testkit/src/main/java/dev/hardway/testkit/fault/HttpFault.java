package dev.hardway.testkit.fault;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP fault rule installed in a {@link FaultProxy}: which requests it hits and what it does to them. Describe one
 * with {@link #when(HttpMatch)}, install it with {@link FaultProxy#addHttpFault(Builder)}, which returns this live
 * handle, and take it out with {@link FaultProxy#removeHttpFault(HttpFault)}.
 *
 * <pre>{@code
 * HttpFault slowDown = proxy.addHttpFault(HttpFault.when(HttpMatch.method("PUT"))
 *     .respond(HttpFaultResponse.s3SlowDown())
 *     .times(2));
 * s3.putObject(request, RequestBody.fromString("x")); // the SDK retries twice, then succeeds
 * assert slowDown.matched() == 2;
 * }</pre>
 *
 * <p>Actions:
 * <ul>
 *   <li>{@link Builder#respond respond}: answer without forwarding the request; may be combined with a delay.
 *   <li>{@link Builder#delay delay}: forward, and hold the final response (not an interim {@code 100 Continue}) this
 *       long before the client sees its first byte.
 *   <li>{@link Builder#slowBody slowBody}: forward, and stream the response body to the client at this rate.
 *   <li>{@link Builder#truncateBody truncateBody}: forward, send the response head and this many body bytes, then
 *       close the client connection; a body no longer than that passes whole.
 * </ul>
 * Delay, slow body and truncation combine. For every request the proxy applies the first installed rule, in the order
 * added, that matches and has uses left; the others do not count it.
 *
 * <p>Thread-safety: a handle is safe to read from any thread; {@link #matched()} is exact under concurrent requests,
 * and a rule limited by {@link Builder#times times} never hits more requests than that.
 */
public final class HttpFault {

  private final long id;
  private final HttpMatch match;
  private final @Nullable HttpFaultResponse response;
  private final long delayNanos;
  private final long slowBodyBytesPerSecond;
  private final long truncateAfter;
  private final long times;
  private final AtomicLong matched = new AtomicLong();

  private HttpFault(long id, Builder builder) {
    this.id = id;
    this.match = builder.match;
    this.response = builder.response;
    this.delayNanos = builder.delay.toNanos();
    this.slowBodyBytesPerSecond = builder.slowBodyBytesPerSecond;
    this.truncateAfter = builder.truncateAfter;
    this.times = builder.times;
  }

  /**
   * Starts describing a rule.
   *
   * @param match the requests it hits
   * @return a builder; choose at least one action
   */
  public static Builder when(HttpMatch match) {
    return new Builder(Objects.requireNonNull(match, "match"));
  }

  /**
   * The requests this rule hits.
   *
   * @return the match
   */
  public HttpMatch match() {
    return match;
  }

  /**
   * How many requests this rule has hit so far.
   *
   * @return the count
   */
  public long matched() {
    return matched.get();
  }

  /**
   * Whether a rule limited by {@link Builder#times times} has used all its hits; an exhausted rule stays installed
   * but lets every request pass.
   *
   * @return true when it will hit no more requests
   */
  public boolean exhausted() {
    return times > 0 && matched.get() >= times;
  }

  /**
   * A readable form.
   *
   * @return e.g. {@code "HttpFault#1[method(PUT) -> respond 503 Service Unavailable, times 2]"}
   */
  @Override
  public String toString() {
    StringBuilder text = new StringBuilder("HttpFault#").append(id).append('[').append(match).append(" ->");
    if (response != null) {
      text.append(" respond ").append(response);
    }
    if (delayNanos > 0) {
      text.append(" delay ").append(Duration.ofNanos(delayNanos));
    }
    if (slowBodyBytesPerSecond > 0) {
      text.append(" slowBody ").append(slowBodyBytesPerSecond).append(" B/s");
    }
    if (truncateAfter >= 0) {
      text.append(" truncateBody ").append(truncateAfter);
    }
    if (times > 0) {
      text.append(", times ").append(times);
    }
    return text.append(']').toString();
  }

  /** Counts a hit when the rule matches and has uses left. */
  boolean tryClaim(RequestHead head) {
    if (!match.test(head)) {
      return false;
    }
    if (times <= 0) {
      matched.incrementAndGet();
      return true;
    }
    while (true) {
      long now = matched.get();
      if (now >= times) {
        return false;
      }
      if (matched.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  @Nullable HttpFaultResponse response() {
    return response;
  }

  long delayNanos() {
    return delayNanos;
  }

  long slowBodyBytesPerSecond() {
    return slowBodyBytesPerSecond;
  }

  /** Body bytes to let through before closing, or -1 to leave the body alone. */
  long truncateAfter() {
    return truncateAfter;
  }

  /**
   * Describes an HTTP fault rule. Setters validate at once; {@link FaultProxy#addHttpFault(Builder)} checks the
   * combination. A builder may be installed more than once, in one proxy or several: each installation is a rule of
   * its own with its own count.
   */
  public static final class Builder {
    private final HttpMatch match;
    private @Nullable HttpFaultResponse response;
    private Duration delay = Duration.ZERO;
    private long slowBodyBytesPerSecond;
    private long truncateAfter = -1;
    private long times;

    private Builder(HttpMatch match) {
      this.match = match;
    }

    /**
     * Answers matching requests with this response instead of forwarding them, then closes the client connection.
     * Combines with {@link #delay}, not with {@link #slowBody} or {@link #truncateBody}.
     *
     * @param response the answer, e.g. {@link HttpFaultResponse#s3SlowDown()}
     * @return this builder
     */
    public Builder respond(HttpFaultResponse response) {
      this.response = Objects.requireNonNull(response, "response");
      return this;
    }

    /**
     * Holds the final response to a matching request this long (an injected one too) on top of any TCP latency.
     *
     * @param delay at least zero, at most one hour
     * @return this builder
     * @throws IllegalArgumentException when the delay is negative or longer than an hour
     */
    public Builder delay(Duration delay) {
      Objects.requireNonNull(delay, "delay");
      if (delay.isNegative() || delay.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("delay must be between 0 and 1 hour, got " + delay);
      }
      this.delay = delay;
      return this;
    }

    /**
     * Streams the body of the response to a matching request at this rate (the head goes at full speed). Combined
     * with a TCP {@link FaultProxy#bandwidth bandwidth} limit, the lower rate wins.
     *
     * @param bytesPerSecond at least 1
     * @return this builder
     * @throws IllegalArgumentException when the rate is below 1
     */
    public Builder slowBody(long bytesPerSecond) {
      if (bytesPerSecond < 1) {
        throw new IllegalArgumentException("slowBody must be at least 1 byte per second, got " + bytesPerSecond);
      }
      this.slowBodyBytesPerSecond = bytesPerSecond;
      return this;
    }

    /**
     * Sends the response head and this many body bytes, as they are on the wire (chunk-size lines included when the
     * body is chunked), then closes the client connection: the client sees a body shorter than announced. A body of
     * this many bytes or fewer passes whole.
     *
     * @param bytes at least zero; zero sends the head alone
     * @return this builder
     * @throws IllegalArgumentException when the count is negative
     */
    public Builder truncateBody(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("truncateBody must be at least 0 bytes, got " + bytes);
      }
      this.truncateAfter = bytes;
      return this;
    }

    /**
     * Hits only the first {@code count} matching requests, then lets them all pass. Without it the rule hits every
     * matching request until removed.
     *
     * @param count at least 1
     * @return this builder
     * @throws IllegalArgumentException when the count is below 1
     */
    public Builder times(long count) {
      if (count < 1) {
        throw new IllegalArgumentException("times must be at least 1, got " + count);
      }
      this.times = count;
      return this;
    }

    HttpFault build(long id) {
      boolean shapesBody = slowBodyBytesPerSecond > 0 || truncateAfter >= 0;
      if (response == null && !shapesBody && delay.isZero()) {
        throw new IllegalStateException("HTTP fault for " + match
            + " has no action: call respond, delay, slowBody or truncateBody");
      }
      if (response != null && shapesBody) {
        throw new IllegalStateException("HTTP fault for " + match
            + ": respond cannot be combined with slowBody or truncateBody, which shape a forwarded response");
      }
      return new HttpFault(id, this);
    }
  }
}
