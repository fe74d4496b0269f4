package dev.hardway.testkit;

/** The local servers the test kit can start. */
public enum Service {
  /** Amazon S3, served by s3proxy in the JVM. */
  S3("s3"),
  /** Amazon DynamoDB with DynamoDB Streams, served by the test kit's own server in the JVM. */
  DYNAMODB("dynamodb"),
  /** Amazon Kinesis Data Streams, served by kinesis-mock (npm {@code kinesis-local}) in a child process. */
  KINESIS("kinesis"),
  /** AWS STS, served by the test kit's own server in the JVM. */
  STS("sts"),
  /** Redis (as ElastiCache), served by a bundled {@code redis-server} in a child process. */
  REDIS("redis"),
  /** LDAP, served by the UnboundID in-memory directory server in the JVM. */
  LDAP("ldap");

  private final String id;

  Service(String id) {
    this.id = id;
  }

  /**
   * A short lower-case name, as used in property names and printed endpoints.
   *
   * @return e.g. {@code "dynamodb"}
   */
  public String id() {
    return id;
  }
}
