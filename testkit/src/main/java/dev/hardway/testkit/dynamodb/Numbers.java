package dev.hardway.testkit.dynamodb;

import java.math.BigDecimal;

/**
 * DynamoDB's number type: up to 38 significant digits, magnitude from 1E-130 to 9.99...E+125, returned without
 * leading or trailing zeros and without an exponent.
 */
final class Numbers {

  static final int MAX_PRECISION = 38;
  private static final BigDecimal SMALLEST = new BigDecimal("1E-130");
  private static final BigDecimal TOO_LARGE = new BigDecimal("1E+126");
  // A digit string this long cannot be a valid number; refusing early keeps BigDecimal parsing cheap.
  private static final int MAX_TEXT_LENGTH = 512;

  private Numbers() {}

  /**
   * Parses and checks a number sent by a client.
   *
   * @throws ServiceError a validation error naming the value received
   */
  static BigDecimal parse(String text) {
    if (text.isEmpty() || text.length() > MAX_TEXT_LENGTH || !looksNumeric(text)) {
      throw ServiceError.validation("A value provided cannot be converted into a number: " + quote(text));
    }
    BigDecimal value;
    try {
      value = new BigDecimal(text);
    } catch (NumberFormatException | ArithmeticException e) {
      throw ServiceError.validation("A value provided cannot be converted into a number: " + quote(text));
    }
    BigDecimal normalized = normalize(value);
    if (normalized.signum() == 0) {
      return normalized;
    }
    if (normalized.precision() > MAX_PRECISION) {
      throw ServiceError.validation(
          "Attempting to store more than 38 significant digits in a Number: " + quote(text));
    }
    BigDecimal magnitude = normalized.abs();
    if (magnitude.compareTo(TOO_LARGE) >= 0) {
      throw ServiceError.validation(
          "Number overflow. Attempting to store a number with magnitude larger than supported range: " + quote(text));
    }
    if (magnitude.compareTo(SMALLEST) < 0) {
      throw ServiceError.validation(
          "Number underflow. Attempting to store a number with magnitude smaller than supported range: "
              + quote(text));
    }
    return normalized;
  }

  /** Arithmetic results go through the same range checks as client numbers. */
  static BigDecimal checked(BigDecimal value) {
    return parse(normalize(value).toPlainString());
  }

  static BigDecimal normalize(BigDecimal value) {
    if (value.signum() == 0) {
      return BigDecimal.ZERO;
    }
    return value.stripTrailingZeros();
  }

  /** DynamoDB's documented accounting: one byte per two significant digits, plus one. */
  static long size(BigDecimal value) {
    return (value.precision() + 1) / 2 + 1;
  }

  private static boolean looksNumeric(String text) {
    // BigDecimal also accepts forms DynamoDB refuses in no documented way; restrict to sign, digits, point, exponent.
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!(c >= '0' && c <= '9') && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E') {
        return false;
      }
    }
    return true;
  }

  private static String quote(String text) {
    return text.length() > 80 ? "\"" + text.substring(0, 80) + "...\" (" + text.length() + " characters)"
        : "\"" + text + "\"";
  }
}
