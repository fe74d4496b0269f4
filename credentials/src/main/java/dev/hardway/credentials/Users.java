package dev.hardway.credentials;

import java.util.regex.Pattern;

/** User names double as STS RoleSessionName, so they obey its rule: 2-64 of {@code [\w+=,.@-]}. */
final class Users {
  private static final Pattern SESSION_NAME = Pattern.compile("[\\w+=,.@-]{2,64}");

  private Users() {}

  static boolean isValid(String user) {
    return SESSION_NAME.matcher(user).matches();
  }

  static String require(String user, String option) {
    if (!isValid(user)) {
      throw new IllegalArgumentException(option + " must be 2-64 of letters, digits and +=,.@_- (it becomes the STS "
          + "session name), got " + Printable.quote(user));
    }
    return user;
  }
}
