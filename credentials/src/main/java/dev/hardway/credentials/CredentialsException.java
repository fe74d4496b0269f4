package dev.hardway.credentials;

import java.io.Serial;
import org.jspecify.annotations.Nullable;

/** The one exception family of this module; {@link #retryable()} says whether trying again later may succeed. */
public class CredentialsException extends RuntimeException {
  @Serial private static final long serialVersionUID = 1L;

  private final boolean retryable;

  /**
   * Creates an exception.
   *
   * @param message what went wrong, naming the value received; never a secret
   * @param retryable whether the same call may succeed later
   * @param cause the underlying failure, or {@code null}
   */
  public CredentialsException(String message, boolean retryable, @Nullable Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  /**
   * Creates an exception without a cause.
   *
   * @param message what went wrong, naming the value received; never a secret
   * @param retryable whether the same call may succeed later
   */
  public CredentialsException(String message, boolean retryable) {
    this(message, retryable, null);
  }

  /**
   * Whether the same call may succeed later (a throttled or unreachable STS), as opposed to a refusal that stands.
   *
   * @return true when retrying may help
   */
  public boolean retryable() {
    return retryable;
  }
}
