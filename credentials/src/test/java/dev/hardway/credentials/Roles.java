package dev.hardway.credentials;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.sts.StsRole;
import java.util.concurrent.atomic.AtomicInteger;

/** Test roles on the test kit's STS server, with names unique in the JVM so tests never share state. */
final class Roles {
  private static final AtomicInteger SEQ = new AtomicInteger();

  private Roles() {}

  /** Creates a role any principal of the account may assume, and returns its ARN. */
  static String create(LocalAws aws, String prefix) {
    String arn = "arn:aws:iam::000000000000:role/" + prefix + "-" + SEQ.incrementAndGet();
    aws.stsServer().putRole(StsRole.builder(arn).trust(StsRole.ANYONE).build());
    return arn;
  }

  static String name(String arn) {
    return arn.substring(arn.lastIndexOf('/') + 1);
  }
}
