package dev.hardway.s3pager;

import java.io.Serial;

/**
 * A failure of the pager: the object could not be fetched (missing, forbidden, changed since it was opened), the
 * handler process died, the object was closed, or the pager cannot run here. The message names what was wrong and
 * the value received.
 */
public class S3PagerException extends RuntimeException {
  @Serial private static final long serialVersionUID = 1L;

  private final boolean retryable;

  /**
   * A failure.
   *
   * @param message what was wrong and the value received
   * @param retryable whether the same call may succeed later (a transient fetch failure), as opposed to a
   *     permanent one (404, 403, 412, a closed object)
   */
  public S3PagerException(String message, boolean retryable) {
    super(message);
    this.retryable = retryable;
  }

  /**
   * A failure with a cause.
   *
   * @param message what was wrong and the value received
   * @param retryable see {@link #retryable()}
   * @param cause the cause
   */
  public S3PagerException(String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  /**
   * Whether the same call may succeed later (for example after reopening the object with fresh credentials).
   *
   * @return true for transient failures
   */
  public boolean retryable() {
    return retryable;
  }
}
