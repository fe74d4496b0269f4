package dev.hardway.testkit;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * One command for a local AWS: starts the stack, prints the endpoints and the environment variables that point the
 * AWS CLI and the SDKs at it, and runs until interrupted (Ctrl-C).
 *
 * <pre>
 * usage: LocalAwsMain [--services s3,dynamodb,kinesis,sts,redis,ldap] [--base-port N] [--s3-dir DIR]
 * </pre>
 */
public final class LocalAwsMain {

  private LocalAwsMain() {}

  /**
   * Starts the stack and waits.
   *
   * @param args see the class documentation
   * @throws InterruptedException when interrupted while waiting
   */
  public static void main(String[] args) throws InterruptedException {
    if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
      System.out.println(usage());
      return;
    }
    LocalAws.Builder builder;
    try {
      builder = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("local-aws: " + e.getMessage());
      System.err.println(usage());
      System.exit(2);
      return;
    }
    long t0 = System.nanoTime();
    LocalAws aws = builder.start();
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      aws.close();
      stopped.countDown();
    }, "hardway-local-aws-stop"));
    print(aws, took, System.out);
    stopped.await();
  }

  static LocalAws.Builder parse(String[] args) {
    LocalAws.Builder b = LocalAws.builder();
    List<Service> services = new ArrayList<>(List.of(Service.values()));
    int basePort = 0;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "--services" -> {
          services.clear();
          for (String name : value(args, ++i, arg).split(",")) {
            services.add(service(name.strip()));
          }
        }
        case "--base-port" -> {
          String v = value(args, ++i, arg);
          try {
            basePort = Integer.parseInt(v);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--base-port takes a number, got '" + v + "'");
          }
          if (basePort < 1024 || basePort > 65_535 - Service.values().length) {
            throw new IllegalArgumentException("--base-port must be 1024.." + (65_535 - Service.values().length)
                + ", got " + basePort);
          }
        }
        case "--s3-dir" -> b.s3Directory(Path.of(value(args, ++i, arg)));
        default -> throw new IllegalArgumentException("unknown option '" + arg + "'");
      }
    }
    b.services(services.toArray(Service[]::new));
    if (basePort != 0) {
      for (Service s : Service.values()) {
        b.port(s, basePort + s.ordinal());
      }
    }
    return b;
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  private static Service service(String name) {
    for (Service s : Service.values()) {
      if (s.id().equals(name.toLowerCase(Locale.ROOT))) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown service '" + name + "'; known: s3, dynamodb, kinesis, sts, redis, ldap");
  }

  static String usage() {
    return "usage: LocalAwsMain [--services s3,dynamodb,kinesis,sts,redis,ldap] [--base-port N] [--s3-dir DIR]";
  }

  static void print(LocalAws aws, Duration took, PrintStream out) {
    out.printf("Hardway local AWS is up (%d services in %d ms):%n%n", aws.services().size(), took.toMillis());
    for (Map.Entry<Service, java.net.URI> e : aws.endpoints().entrySet()) {
      out.printf("  %-9s %s%n", e.getKey().id(), e.getValue());
    }
    out.printf("%nAccount %s, user %s, role arn:aws:iam::%s:role/%s%n", LocalAws.ACCOUNT_ID, LocalAws.USER_NAME,
        LocalAws.ACCOUNT_ID, LocalAws.DEFAULT_ROLE_NAME);
    if (aws.isRunning(Service.LDAP)) {
      LdapDirectory ldap = aws.ldap();
      out.printf("LDAP base %s, bind as %s / %s%n", ldap.baseDn(), ldap.bindDn(), ldap.bindPassword());
    }
    out.printf("%nPoint the AWS CLI or an SDK here (S3 needs path-style addressing):%n%n");
    aws.environment().forEach((k, v) -> out.printf("export %s=%s%n", k, v));
    out.printf("%nCtrl-C stops everything.%n");
    out.flush();
  }
}
