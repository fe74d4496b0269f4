package dev.hardway.testkit;

import org.jspecify.annotations.Nullable;

/** A local server could not start or failed; the message names the service and what went wrong. */
public final class LocalAwsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what failed, naming the service
   * @param cause the underlying failure, if any
   */
  public LocalAwsException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
