package dev.hardway.logtiers;

import java.io.Serial;
import org.jspecify.annotations.Nullable;

/** The one exception family of this module; {@link #retryable()} says whether trying again later may succeed. */
public class LogTiersException extends RuntimeException {
  @Serial private static final long serialVersionUID = 1L;

  private final boolean retryable;

  /**
   * Creates an exception.
   *
   * @param message what went wrong, naming the value received
   * @param retryable whether the same call may succeed later
   * @param cause the underlying failure, or {@code null}
   */
  public LogTiersException(String message, boolean retryable, @Nullable Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  /**
   * Whether the same call may succeed later (a disk or service that may recover), as opposed to bad data.
   *
   * @return true when retrying may help
   */
  public boolean retryable() {
    return retryable;
  }
}
