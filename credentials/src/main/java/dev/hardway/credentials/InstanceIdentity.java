package dev.hardway.credentials;

import java.util.Objects;

/**
 * What the imitated instance says about itself: {@code instance-id}, {@code placement/*} and the instance identity
 * document. Defaults describe a workstation plainly ({@code i-0hardway00000000}, us-east-1a), so nothing mistakes it
 * for a real instance.
 *
 * @param instanceId e.g. {@code i-0123456789abcdef0}
 * @param region e.g. {@code us-east-1}
 * @param availabilityZone e.g. {@code us-east-1a}
 * @param accountId the account id in the identity document
 * @param instanceType e.g. {@code m7g.large}
 * @param imageId e.g. {@code ami-0123456789abcdef0}
 * @param privateIp the private address reported
 */
public record InstanceIdentity(String instanceId, String region, String availabilityZone, String accountId,
    String instanceType, String imageId, String privateIp) {

  /** A plainly fake workstation identity in us-east-1a. */
  public static final InstanceIdentity WORKSTATION = new InstanceIdentity("i-0hardway00000000", "us-east-1",
      "us-east-1a", "000000000000", "workstation", "ami-0hardway00000000", "127.0.0.1");

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException when a value could not appear in a real document
   */
  public InstanceIdentity {
    check(instanceId, "i-[0-9a-z]{8,17}", "instanceId");
    check(region, "[a-z]{2}(-[a-z]+)+-\\d", "region");
    check(availabilityZone, "[a-z]{2}(-[a-z]+)+-\\d[a-z]", "availabilityZone");
    check(accountId, "\\d{12}", "accountId");
    check(instanceType, "[a-z0-9.-]{1,64}", "instanceType");
    check(imageId, "ami-[0-9a-z]{8,17}", "imageId");
    check(privateIp, "\\d{1,3}(\\.\\d{1,3}){3}", "privateIp");
    if (!availabilityZone.startsWith(region)) {
      throw new IllegalArgumentException("availabilityZone must be in region " + region + ", got " + availabilityZone);
    }
  }

  private static void check(String value, String pattern, String option) {
    Objects.requireNonNull(value, option);
    if (!value.matches(pattern)) {
      throw new IllegalArgumentException(option + " must match " + pattern + ", got " + Printable.quote(value));
    }
  }
}
