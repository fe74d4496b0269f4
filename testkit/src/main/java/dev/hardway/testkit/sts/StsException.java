package dev.hardway.testkit.sts;

/** An STS error answer: HTTP status, AWS error code and message, sent as an awsQuery {@code ErrorResponse}. */
final class StsException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;
  private final String type;

  private StsException(int status, String type, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.type = type;
    this.code = code;
  }

  static StsException sender(int status, String code, String message) {
    return new StsException(status, "Sender", code, message);
  }

  static StsException accessDenied(String message) {
    return sender(403, "AccessDenied", message);
  }

  static StsException validation(String message) {
    return sender(400, "ValidationError", message);
  }

  static StsException invalidToken() {
    return sender(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
  }

  int status() {
    return status;
  }

  String code() {
    return code;
  }

  String type() {
    return type;
  }
}
