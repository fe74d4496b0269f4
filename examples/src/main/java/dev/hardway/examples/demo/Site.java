package dev.hardway.examples.demo;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.Direction;
import dev.hardway.testkit.fault.FaultProxy;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * One simulated region: its own fault proxies in front of the main region's S3, Kinesis and DynamoDB (adding that
 * region's one-way latency each way), a proxy in front of its own Redis tier, and SDK clients that take their
 * credentials from the metadata imitator.
 */
final class Site implements AutoCloseable {
  /** The five regions: name, UTC offset (for the traffic curve), one-way latency to the main region. */
  record Spec(String name, int utcOffsetHours, Duration oneWay) {}

  static final List<Spec> REGIONS = List.of(
      new Spec("us-east", -5, Duration.ofMillis(1)),
      new Spec("us-west", -8, Duration.ofMillis(35)),
      new Spec("eu-west", 0, Duration.ofMillis(40)),
      new Spec("ap-north", 9, Duration.ofMillis(75)),
      new Spec("ap-south", 5, Duration.ofMillis(110)));

  final Spec spec;
  private final FaultProxy s3Proxy;
  private final FaultProxy kinesisProxy;
  private final FaultProxy dynamoProxy;
  private final FaultProxy redisProxy;
  /** The main region's S3 (the mid tier's bucket, the pacing bucket), across the region's link. */
  final S3Client mainS3;
  /** This region's own bucket (the high tier), no link to cross. */
  final S3Client localS3;
  final KinesisClient kinesis;
  final DynamoDbClient home;
  final RedisClient redis;
  private volatile boolean cutOff;
  private volatile boolean redisLost;

  Site(Spec spec, LocalAws aws, AwsCredentialsProvider credentials) {
    this.spec = spec;
    this.s3Proxy = proxy(aws, Service.S3, spec, true);
    this.kinesisProxy = proxy(aws, Service.KINESIS, spec, true);
    this.dynamoProxy = proxy(aws, Service.DYNAMODB, spec, true);
    URI redisEndpoint = aws.endpoint(Service.REDIS);
    this.redisProxy = FaultProxy.builder().target(redisEndpoint.getHost(), redisEndpoint.getPort())
        .name(spec.name() + "-redis").http(false).start();
    ClientOverrideConfiguration timeouts = ClientOverrideConfiguration.builder()
        .apiCallAttemptTimeout(Duration.ofSeconds(2)).apiCallTimeout(Duration.ofSeconds(5)).build();
    this.mainS3 = aws.configure(S3Client.builder(), s3Proxy.uri()).credentialsProvider(credentials)
        .overrideConfiguration(timeouts).build();
    this.localS3 = aws.configure(S3Client.builder()).credentialsProvider(credentials)
        .overrideConfiguration(timeouts).build();
    this.kinesis = aws.configure(KinesisClient.builder(), kinesisProxy.uri()).credentialsProvider(credentials)
        .overrideConfiguration(timeouts).build();
    this.home = aws.configure(DynamoDbClient.builder(), dynamoProxy.uri()).credentialsProvider(credentials)
        .overrideConfiguration(timeouts).build();
    this.redis = RedisClient.create(RedisURI.create(redisProxy.uri().getHost(), redisProxy.port()));
  }

  private static FaultProxy proxy(LocalAws aws, Service service, Spec spec, boolean http) {
    URI target = aws.endpoint(service);
    FaultProxy p = FaultProxy.builder().target(target.getHost(), target.getPort())
        .name(spec.name() + "-" + service.id()).http(http).start();
    p.latency(Direction.BOTH, spec.oneWay());
    return p;
  }

  String name() {
    return spec.name();
  }

  /** The region loses (or regains) its links to the main region: connections reset, new ones refused. */
  void cutOff(boolean on) {
    cutOff = on;
    for (FaultProxy p : List.of(s3Proxy, kinesisProxy, dynamoProxy)) {
      p.refuseConnections(on);
      if (on) {
        p.resetConnections();
      }
    }
  }

  /** The region's Redis is lost (or back). */
  void loseRedis(boolean on) {
    redisLost = on;
    redisProxy.refuseConnections(on);
    if (on) {
      redisProxy.resetConnections();
    }
  }

  boolean isCutOff() {
    return cutOff;
  }

  boolean isRedisLost() {
    return redisLost;
  }

  @Override
  public void close() {
    redis.shutdown();
    mainS3.close();
    localS3.close();
    kinesis.close();
    home.close();
    for (FaultProxy p : List.of(s3Proxy, kinesisProxy, dynamoProxy, redisProxy)) {
      p.close();
    }
  }
}
