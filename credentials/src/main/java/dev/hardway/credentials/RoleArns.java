package dev.hardway.credentials;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Role ARNs: validation, the parts the metadata paths need, and {@code alias/role} references. */
final class RoleArns {
  // IAM names: 1-64 of [\w+=,.@-]; paths are segments of the same characters. Partitions as of 2026.
  private static final Pattern ROLE_ARN = Pattern.compile(
      "arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc):iam::(\\d{12}):role/"
          + "((?:[\\w+=,.@-]{1,512}/)*)([\\w+=,.@-]{1,64})");
  private static final Pattern ROLE_NAME = Pattern.compile("[\\w+=,.@-]{1,64}");
  private static final Pattern ALIAS = Pattern.compile("[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])?|\\d{12}");

  private RoleArns() {}

  static String requireRoleArn(String value, String option) {
    if (!ROLE_ARN.matcher(value).matches()) {
      throw new IllegalArgumentException(option + " must be a role ARN like arn:aws:iam::123456789012:role/name, got "
          + Printable.quote(value));
    }
    return value;
  }

  static boolean isRoleArn(String value) {
    return ROLE_ARN.matcher(value).matches();
  }

  /** The role's name: the last segment of its path, which EC2 lists under {@code iam/security-credentials/}. */
  static String roleName(String roleArn) {
    Matcher m = match(roleArn);
    return m.group(4);
  }

  static String accountId(String roleArn) {
    return match(roleArn).group(2);
  }

  static String partition(String roleArn) {
    return match(roleArn).group(1);
  }

  private static Matcher match(String roleArn) {
    Matcher m = ROLE_ARN.matcher(roleArn);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a role ARN: " + Printable.quote(roleArn));
    }
    return m;
  }

  static void requireAlias(String alias) {
    if (!ALIAS.matcher(alias).matches()) {
      throw new IllegalArgumentException(
          "account alias must be 3-63 lower-case letters, digits or hyphens (or a 12-digit account id), got "
              + Printable.quote(alias));
    }
  }

  static void requireAccountId(String accountId, String option) {
    if (!accountId.matches("\\d{12}")) {
      throw new IllegalArgumentException(option + " must be a 12-digit account id, got " + Printable.quote(accountId));
    }
  }

  /**
   * Expands what a user typed: a role ARN as is, {@code alias/name} (or {@code 123456789012/name}) through the
   * aliases, a bare {@code name} in the default account.
   */
  static String resolve(String reference, Map<String, String> aliases, @Nullable String defaultAccount,
      String partition) {
    if (reference.startsWith("arn:")) {
      return requireRoleArn(reference, "role");
    }
    int slash = reference.indexOf('/');
    String account;
    String name;
    if (slash < 0) {
      if (defaultAccount == null) {
        throw new IllegalArgumentException("role " + Printable.quote(reference)
            + " names no account: give a role ARN or alias/role (no default account is configured)");
      }
      account = defaultAccount;
      name = reference;
    } else {
      String alias = reference.substring(0, slash);
      name = reference.substring(slash + 1);
      account = alias.matches("\\d{12}") ? alias : aliases.get(alias);
      if (account == null) {
        throw new IllegalArgumentException("unknown account alias " + Printable.quote(alias) + " in role "
            + Printable.quote(reference) + "; known aliases: " + aliases.keySet());
      }
    }
    if (!ROLE_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("role name must be 1-64 of letters, digits and +=,.@_-, got "
          + Printable.quote(name));
    }
    return "arn:" + partition + ":iam::" + account + ":role/" + name;
  }
}
