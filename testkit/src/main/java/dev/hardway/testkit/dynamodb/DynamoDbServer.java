package dev.hardway.testkit.dynamodb;

import dev.hardway.testkit.internal.LoopbackHttpServer;
import java.net.URI;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.random.RandomGenerator;

/**
 * A local DynamoDB server with DynamoDB Streams, in the JVM, speaking DynamoDB's JSON wire protocol so that the real
 * AWS SDK talks to it unchanged.
 *
 * <pre>{@code
 * try (DynamoDbServer server = DynamoDbServer.builder().start();
 *     DynamoDbClient dynamo = DynamoDbClient.builder()
 *         .endpointOverride(server.endpoint())
 *         .region(Region.US_EAST_1)
 *         .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("any", "any")))
 *         .build()) {
 *   dynamo.createTable(b -> b.tableName("orders")
 *       .keySchema(k -> k.attributeName("id").keyType(KeyType.HASH))
 *       .attributeDefinitions(a -> a.attributeName("id").attributeType(ScalarAttributeType.S))
 *       .billingMode(BillingMode.PAY_PER_REQUEST)
 *       .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_AND_OLD_IMAGES)));
 * }
 * }</pre>
 *
 * <p>The DynamoDB Streams client ({@code DynamoDbStreamsClient}) uses the same endpoint.
 *
 * <h2>What it serves</h2>
 *
 * <ul>
 *   <li>Tables: CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTable (billing, streams, global secondary
 *       indexes, deletion protection, table class), UpdateTimeToLive, DescribeTimeToLive, TagResource,
 *       UntagResource, ListTagsOfResource, DescribeLimits. Tables and indexes are ACTIVE at once; an index added by
 *       UpdateTable is filled from the table before the call returns.
 *   <li>Secondary indexes, global and local, with ALL, KEYS_ONLY and INCLUDE projections: sparse (an item without
 *       the index's key attributes is not in it), kept up to date by every write, and read by Query and Scan with
 *       {@code IndexName}. A global index returns only its projection; a local one fetches other attributes from
 *       the table, as in DynamoDB.
 *   <li>Items: PutItem, GetItem, UpdateItem, DeleteItem, Query, Scan (with parallel segments), BatchGetItem,
 *       BatchWriteItem, TransactWriteItems, TransactGetItems, with condition, filter, key-condition, update and
 *       projection expressions, ReturnValues and ReturnValuesOnConditionCheckFailure, and DynamoDB's limits
 *       (400 KB items, 1 MB pages, 38-digit numbers, 100 keys per BatchGetItem, 25 writes per BatchWriteItem,
 *       100 actions per transaction, the reserved words of expressions).
 *   <li>Streams: ListStreams, DescribeStream, GetShardIterator (all four iterator types), GetRecords; every item
 *       change appends one record, in modification order; writes that change nothing append none.
 * </ul>
 *
 * <p>Refused with a {@code ValidationException} that says so: global tables ({@code ReplicaUpdates}) and the legacy
 * pre-expression parameters ({@code KeyConditions}, {@code AttributeUpdates}, {@code Expected},
 * {@code AttributesToGet}, {@code ScanFilter}, {@code QueryFilter}, {@code ConditionalOperator}). PartiQL, backups,
 * imports and exports answer {@code UnknownOperationException}. BatchWriteItem and BatchGetItem never leave
 * unprocessed items and nothing is ever throttled. A transaction's {@code ClientRequestToken} makes its retries
 * idempotent for ten minutes, as in DynamoDB (the SDK sets one on every call and keeps it when it retries).
 *
 * <h2>Security</h2>
 *
 * <p>There is one namespace per server, whatever the credentials and region of a request: signatures are not
 * verified, and any credentials are accepted. Listen on loopback only.
 *
 * <h2>Time, memory and test hooks</h2>
 *
 * <p>The {@linkplain Builder#clock clock} sets table creation times, stream record times, iterator expiry (15 minutes
 * after issue) and stream retention (24 hours). Each stream keeps at most {@linkplain Builder#streamRecordLimit a
 * limit} of records (default {@value Builder#DEFAULT_STREAM_RECORD_LIMIT}); the oldest beyond it are trimmed, as are
 * records older than 24 hours, and every trimmed record is counted in {@link #stats()}. Reading a trimmed position
 * answers {@code TrimmedDataAccessException}. {@link #rotateStreamShard} and {@link #expireItems} let tests drive what
 * DynamoDB does on its own schedule.
 *
 * <h2>Configuration</h2>
 *
 * <table class="striped">
 *   <caption>Builder options</caption>
 *   <thead><tr><th>Option</th><th>Default</th><th>Meaning</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@link Builder#host host}</td><td>{@code 127.0.0.1}</td><td>address to listen on</td></tr>
 *     <tr><td>{@link Builder#port port}</td><td>0 (a free port)</td><td>port to listen on</td></tr>
 *     <tr><td>{@link Builder#region region}</td><td>{@code us-east-1}</td><td>region in ARNs and stream records</td></tr>
 *     <tr><td>{@link Builder#accountId accountId}</td><td>{@code 000000000000}</td><td>account in ARNs</td></tr>
 *     <tr><td>{@link Builder#clock clock}</td><td>the system clock</td><td>creation and record times, iterator
 *         expiry, stream retention, time to live, client token window</td></tr>
 *     <tr><td>{@link Builder#streamRecordLimit streamRecordLimit}</td>
 *         <td>{@value Builder#DEFAULT_STREAM_RECORD_LIMIT}</td><td>records kept per stream</td></tr>
 *     <tr><td>{@link Builder#random random}</td><td>a new {@link SecureRandom}</td><td>iterator signing key and id
 *         salts</td></tr>
 *   </tbody>
 * </table>
 *
 * <h2>Thread safety</h2>
 *
 * <p>Any number of clients may call at once. Each table has a read-write lock; a write appends its stream record
 * before it releases the lock, so a stream's order is its table's modification order. Transactions lock their tables
 * in name order.
 */
public final class DynamoDbServer implements AutoCloseable {

  private final Builder config;
  private final Database db;
  private final TableOperations tables;
  private final LoopbackHttpServer http;
  private final AtomicBoolean closed = new AtomicBoolean();

  private DynamoDbServer(Builder config) {
    this.config = new Builder(config);
    byte[] secret = new byte[32];
    config.random.nextBytes(secret);
    this.db = new Database(config.region, config.accountId, config.clock, config.streamRecordLimit, secret);
    this.tables = new TableOperations(db);
    Dispatcher dispatcher = new Dispatcher(db, tables, new ItemOperations(db), new StreamOperations(db));
    this.http = LoopbackHttpServer.start("dynamodb", config.host, config.port, dispatcher);
  }

  /**
   * A builder with the defaults: {@code 127.0.0.1}, a free port, {@code us-east-1}, account {@code 000000000000},
   * the system clock.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder holding this server's configuration, e.g. to start a second server like this one.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    return new Builder(config);
  }

  /**
   * The endpoint to give SDK clients as {@code endpointOverride}.
   *
   * @return {@code http://host:port}
   */
  public URI endpoint() {
    return http.endpoint();
  }

  /**
   * The port the server listens on.
   *
   * @return the local port
   */
  public int port() {
    return http.port();
  }

  /**
   * The region in ARNs and stream records.
   *
   * @return the region, e.g. {@code us-east-1}
   */
  public String region() {
    return config.region;
  }

  /**
   * The account id in ARNs.
   *
   * @return twelve digits
   */
  public String accountId() {
    return config.accountId;
  }

  /**
   * Closes the open shard of a table's stream and opens a child shard whose {@code ParentShardId} is the closed one,
   * as DynamoDB does every few hours; later writes go to the child. A reader of the closed shard gets its remaining
   * records, then no {@code NextShardIterator}.
   *
   * @param table the table's name
   * @return the child shard's id
   * @throws IllegalArgumentException when no such table exists
   * @throws IllegalStateException when the table's stream is not enabled
   */
  public String rotateStreamShard(String table) {
    Objects.requireNonNull(table, "table");
    return tables.rotateStreamShard(table);
  }

  /**
   * Runs DynamoDB's time-to-live process now: deletes every item whose time-to-live attribute holds a number of
   * epoch seconds before the clock's present (and no more than five years before it, as DynamoDB ignores older
   * values). Each deletion appends a REMOVE stream record whose {@code userIdentity} is the DynamoDB service.
   * DynamoDB itself deletes expired items some time after they expire; until this is called they stay readable.
   *
   * @return how many items were deleted
   */
  public int expireItems() {
    return tables.expireItems();
  }

  /**
   * A snapshot of the server's counters.
   *
   * @return the counters now
   */
  public DynamoDbStats stats() {
    return new DynamoDbStats(db.requests.sum(), db.errors.sum(), db.tables.size(), db.recordsWritten.sum(),
        db.recordsTrimmed.sum());
  }

  /** Stops the server and its threads; idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      http.close();
    }
  }

  @Override
  public String toString() {
    return "DynamoDbServer[" + endpoint() + ", " + config.region + ", " + config.accountId + "]";
  }

  /** Configures and starts a {@link DynamoDbServer}. Each setter checks its value; {@link #start} checks again. */
  public static final class Builder {

    /** The default for {@link #streamRecordLimit}. */
    public static final int DEFAULT_STREAM_RECORD_LIMIT = 100_000;

    private String host = "127.0.0.1";
    private int port;
    private String region = "us-east-1";
    private String accountId = "000000000000";
    private InstantSource clock = InstantSource.system();
    private int streamRecordLimit = DEFAULT_STREAM_RECORD_LIMIT;
    private RandomGenerator random = new SecureRandom();

    private Builder() {}

    private Builder(Builder other) {
      this.host = other.host;
      this.port = other.port;
      this.region = other.region;
      this.accountId = other.accountId;
      this.clock = other.clock;
      this.streamRecordLimit = other.streamRecordLimit;
      this.random = other.random;
    }

    /**
     * The address to listen on.
     *
     * @param host an address or host name, default {@code 127.0.0.1}
     * @return this builder
     * @throws IllegalArgumentException when blank
     */
    public Builder host(String host) {
      this.host = checkHost(host);
      return this;
    }

    /**
     * The port to listen on.
     *
     * @param port 0 (the default) for a free port, else 1 to 65535
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder port(int port) {
      this.port = checkPort(port);
      return this;
    }

    /**
     * The region in ARNs and stream records; requests for any region are served from the one namespace.
     *
     * @param region e.g. {@code eu-west-1}, default {@code us-east-1}
     * @return this builder
     * @throws IllegalArgumentException when not lower-case letters, digits and hyphens
     */
    public Builder region(String region) {
      this.region = checkRegion(region);
      return this;
    }

    /**
     * The account id in ARNs.
     *
     * @param accountId twelve digits, default {@code 000000000000}
     * @return this builder
     * @throws IllegalArgumentException when not twelve digits
     */
    public Builder accountId(String accountId) {
      this.accountId = checkAccountId(accountId);
      return this;
    }

    /**
     * The clock for creation times, stream record times, iterator expiry and stream retention. Tests pass a clock
     * they move by hand.
     *
     * @param clock the clock, default the system clock
     * @return this builder
     * @throws IllegalArgumentException when null
     */
    public Builder clock(InstantSource clock) {
      if (clock == null) {
        throw new IllegalArgumentException("clock must not be null, got null");
      }
      this.clock = clock;
      return this;
    }

    /**
     * The most records a stream keeps; beyond it the oldest are trimmed (and counted in {@link #stats()}) as if
     * they had aged out.
     *
     * @param limit at least 1, default {@value #DEFAULT_STREAM_RECORD_LIMIT}
     * @return this builder
     * @throws IllegalArgumentException when below 1
     */
    public Builder streamRecordLimit(int limit) {
      this.streamRecordLimit = checkStreamRecordLimit(limit);
      return this;
    }

    /**
     * The randomness for the key that signs shard iterators and for the salts of event and table ids. Pass a
     * seeded generator for ids that repeat from run to run; it is used only while the server starts.
     *
     * @param random the source, default a new {@link SecureRandom}
     * @return this builder
     * @throws IllegalArgumentException when null
     */
    public Builder random(RandomGenerator random) {
      if (random == null) {
        throw new IllegalArgumentException("random must not be null, got null");
      }
      this.random = random;
      return this;
    }

    /**
     * Starts the server.
     *
     * @return the running server
     * @throws IllegalArgumentException when a setting is invalid
     * @throws IllegalStateException when the server cannot listen, e.g. the port is taken
     */
    public DynamoDbServer start() {
      checkHost(host);
      checkPort(port);
      checkRegion(region);
      checkAccountId(accountId);
      checkStreamRecordLimit(streamRecordLimit);
      return new DynamoDbServer(this);
    }

    private static String checkHost(String host) {
      if (host == null || host.isBlank()) {
        throw new IllegalArgumentException("host must be an address or host name, got \"" + host + "\"");
      }
      return host;
    }

    private static int checkPort(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be 0 (a free port) or 1..65535, got " + port);
      }
      return port;
    }

    private static String checkRegion(String region) {
      if (region == null || !region.matches("[a-z0-9]+(-[a-z0-9]+)*")) {
        throw new IllegalArgumentException("region must be lower-case letters, digits and hyphens, e.g. us-east-1, "
            + "got \"" + region + "\"");
      }
      return region;
    }

    private static String checkAccountId(String accountId) {
      if (accountId == null || !accountId.matches("[0-9]{12}")) {
        throw new IllegalArgumentException("accountId must be twelve digits, got \"" + accountId + "\"");
      }
      return accountId;
    }

    private static int checkStreamRecordLimit(int limit) {
      if (limit < 1) {
        throw new IllegalArgumentException("streamRecordLimit must be at least 1, got " + limit);
      }
      return limit;
    }
  }
}
