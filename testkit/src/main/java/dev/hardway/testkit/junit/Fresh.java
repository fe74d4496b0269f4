package dev.hardway.testkit.junit;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import software.amazon.awssdk.core.waiters.WaiterOverrideConfiguration;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.DescribeTableRequest;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamRequest;

/**
 * Fresh resource names for one test, so tests sharing a stack never see each other's buckets, tables or streams.
 * Names are lower case, start with a letter, carry the test's name, and fit S3's bucket rules (3 to 63 characters of
 * {@code [a-z0-9-]}), which also makes them valid table and stream names.
 *
 * <p>Resources created here are not deleted after the test: names never repeat, and the stack lives as long as the
 * test JVM.
 */
public final class Fresh {

  private static final AtomicInteger SEQUENCE = new AtomicInteger();
  private static final WaiterOverrideConfiguration POLL_FAST = WaiterOverrideConfiguration.builder()
      .backoffStrategyV2(BackoffStrategy.fixedDelay(Duration.ofMillis(50)))
      .waitTimeout(Duration.ofSeconds(60))
      .build();

  private final LocalAws aws;
  private final String stem;

  Fresh(LocalAws aws, String testName) {
    this.aws = aws;
    String clean = testName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-+|-+$)", "");
    this.stem = clean.length() > 30 ? clean.substring(0, 30).replaceAll("-+$", "") : clean;
  }

  /**
   * A name not handed out before in this JVM (nor, with high probability, in any other sharing the stack).
   *
   * @param prefix a short prefix, e.g. {@code "bucket"}
   * @return {@code <prefix>-<test name>-<counter><random>}, at most 63 characters
   * @throws IllegalArgumentException when the prefix is not 1 to 16 characters of {@code [a-z0-9-]} starting with a
   *     letter
   */
  public String name(String prefix) {
    if (prefix == null || !prefix.matches("[a-z][a-z0-9-]{0,15}")) {
      throw new IllegalArgumentException("prefix must be 1 to 16 characters of [a-z0-9-] starting with a letter, got '"
          + prefix + "'");
    }
    String suffix = SEQUENCE.incrementAndGet() + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
    String name = prefix + (stem.isEmpty() ? "" : "-" + stem) + "-" + suffix;
    return name.length() <= 63 ? name : prefix + "-" + suffix;
  }

  /**
   * Creates an S3 bucket with a fresh name.
   *
   * @return the bucket name
   */
  public String bucket() {
    aws.ensureStarted(Service.S3);
    String name = name("bucket");
    aws.s3().createBucket(b -> b.bucket(name));
    return name;
  }

  /**
   * Creates a Kinesis stream with a fresh name and waits until it is {@code ACTIVE}.
   *
   * @param shards the shard count, at least 1
   * @return the stream name
   */
  public String stream(int shards) {
    if (shards < 1) {
      throw new IllegalArgumentException("shards must be >= 1, got " + shards);
    }
    aws.ensureStarted(Service.KINESIS);
    String name = name("stream");
    aws.kinesis().createStream(b -> b.streamName(name).shardCount(shards));
    // The SDK waiter's default first poll comes after 10 s; the local stream is ACTIVE within ~100 ms.
    aws.kinesis().waiter().waitUntilStreamExists(
        DescribeStreamRequest.builder().streamName(name).build(), POLL_FAST);
    return name;
  }

  /**
   * A fresh DynamoDB table name (the table is not created).
   *
   * @return the name
   */
  public String tableName() {
    return name("table");
  }

  /**
   * Creates a DynamoDB table with a fresh name and waits until it exists.
   *
   * @param spec fills in everything but the table name (key schema, attribute definitions, billing mode, streams)
   * @return the table name
   */
  public String table(Consumer<CreateTableRequest.Builder> spec) {
    aws.ensureStarted(Service.DYNAMODB);
    String name = tableName();
    CreateTableRequest.Builder b = CreateTableRequest.builder();
    spec.accept(b);
    aws.dynamoDb().createTable(b.tableName(name).build());
    aws.dynamoDb().waiter().waitUntilTableExists(
        DescribeTableRequest.builder().tableName(name).build(), POLL_FAST);
    return name;
  }
}
