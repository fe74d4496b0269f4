package dev.hardway.procache;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * Fills a new or emptied regional Redis tier, either from the home table (a parallel scan through the same
 * {@link Aggregator.Joiner} the aggregator uses) or from a peer region's Redis. Every value goes in through the
 * version compare-and-set, so a warm-up running while the stream's writer applies changes never lets an older value
 * replace a newer one, whichever of the two comes first.
 *
 * <pre>{@code
 * Warmup.Result r = Warmup.builder()
 *     .fromTable(homeDynamoDb, "profiles", joiner)
 *     .into(regionRedis, "profile:")
 *     .build().run();
 * }</pre>
 *
 * <p>Items removed at home while the scan runs may be written back from the scan's older copy; the stream's tombstone
 * (a newer version) replaces it, so start the region's writer before (or with) the warm-up. Values that the joiner
 * builds from several tables are as fresh as the items the scan read.
 */
public final class Warmup {
  private final @Nullable DynamoDbClient table;
  private final @Nullable String tableName;
  private final Aggregator.@Nullable Joiner joiner;
  private final @Nullable RedisClient peer;
  private final @Nullable String peerPrefix;
  private final RedisClient target;
  private final String prefix;
  private final int segments;
  private final Duration redisTimeout;
  private final Aggregator.DeadLetters deadLetters;

  private Warmup(Builder b) {
    this.table = b.table;
    this.tableName = b.tableName;
    this.joiner = b.joiner;
    this.peer = b.peer;
    this.peerPrefix = b.peerPrefix;
    this.target = Objects.requireNonNull(b.target);
    this.prefix = Objects.requireNonNull(b.prefix);
    this.segments = b.segments;
    this.redisTimeout = b.redisTimeout;
    this.deadLetters = b.deadLetters;
  }

  /**
   * A builder.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * What a warm-up did.
   *
   * @param read items scanned at home, or keys read from the peer
   * @param written values Redis took (newer than what it held)
   * @param notNewer values Redis refused because it held the same or a newer version (e.g. from the stream)
   * @param poison items the joiner failed on (handed to the dead-letter handler)
   * @param homeReadUnits read capacity units the scan cost at home (DynamoDB's figure, or estimated as it bills)
   * @param took how long the warm-up ran
   */
  public record Result(long read, long written, long notNewer, long poison, double homeReadUnits, Duration took) {}

  /**
   * Runs the warm-up to its end on the calling thread (the scan's segments run on virtual threads).
   *
   * @return what was done
   * @throws IllegalStateException when the source or Redis keeps failing (after retries with backoff)
   */
  public Result run() {
    long start = System.nanoTime();
    AtomicLong written = new AtomicLong();
    AtomicLong notNewer = new AtomicLong();
    AtomicLong poison = new AtomicLong();
    try (RedisTier<byte[]> into = new RedisTier<>(target, prefix, ValueCodec.bytes(), redisTimeout, Duration.ZERO)) {
      if (table != null) {
        Aggregator.Joiner j = Objects.requireNonNull(joiner);
        HomeScan.Result scan = HomeScan.scan(table, Objects.requireNonNull(tableName), tableName, segments,
            changes -> {
              List<PushedUpdate> updates = new ArrayList<>(changes.size());
              for (Aggregator.Change c : changes) {
                try {
                  updates.addAll(j.join(c));
                } catch (Exception e) {
                  poison.incrementAndGet();
                  try {
                    deadLetters.accept(c, e);
                  } catch (RuntimeException ignored) {
                    // The dead-letter handler's own failure must not stop the warm-up.
                  }
                }
              }
              apply(into, updates, written, notNewer);
            }, () -> false);
        return new Result(scan.items(), written.get(), notNewer.get(), poison.get(), scan.readUnits(),
            Duration.ofNanos(System.nanoTime() - start));
      }
      long read = copyPeer(into, written, notNewer);
      return new Result(read, written.get(), notNewer.get(), 0, 0, Duration.ofNanos(System.nanoTime() - start));
    }
  }

  private long copyPeer(RedisTier<byte[]> into, AtomicLong written, AtomicLong notNewer) {
    String from = Objects.requireNonNull(peerPrefix);
    long read = 0;
    try (StatefulRedisConnection<String, byte[]> scanConnection =
             Objects.requireNonNull(peer).connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
         RedisTier<byte[]> source = new RedisTier<>(peer, from, ValueCodec.bytes(), redisTimeout, Duration.ZERO)) {
      var sync = scanConnection.sync();
      ScanCursor cursor = ScanCursor.INITIAL;
      ScanArgs args = ScanArgs.Builder.matches(globEscape(from) + "*").limit(500);
      do {
        KeyScanCursor<String> page = scanWithRetry(sync, cursor, args);
        List<String> names = new ArrayList<>();
        for (String key : page.getKeys()) {
          String name = key.substring(from.length());
          if (!name.endsWith(":lease") && !name.equals(RegionWriter.DEAD_LETTER)) {
            names.add(name);
          }
        }
        List<PushedUpdate> updates = readPeer(source, names);
        read += updates.size();
        apply(into, updates, written, notNewer);
        cursor = page;
      } while (!cursor.isFinished());
    }
    return read;
  }

  /** The peer's values of these keys (a key gone meanwhile is skipped); a failed read is retried with backoff. */
  private static List<PushedUpdate> readPeer(RedisTier<byte[]> source, List<String> names) {
    List<PushedUpdate> out = new ArrayList<>(names.size());
    inRounds(names, source::get, (name, v) -> {
      if (v != null) {
        out.add(new PushedUpdate(name, v.version(), v.writtenAtMicros(), v.value()));
      }
    }, "the peer Redis keeps failing reads", name -> name);
    return out;
  }

  /**
   * Starts {@code call} for every item, all in flight at once, hands each answer to {@code done}, and calls again,
   * with backoff, for the items whose call failed: up to 10 rounds, then an {@link IllegalStateException}.
   */
  private static <T, R> void inRounds(List<T> items, Function<T, CompletableFuture<R>> call, BiConsumer<T, R> done,
      String failing, Function<T, String> name) {
    List<T> pending = items;
    for (int attempt = 1; !pending.isEmpty(); attempt++) {
      List<CompletableFuture<R>> inFlight = new ArrayList<>(pending.size());
      for (T item : pending) {
        inFlight.add(call.apply(item));
      }
      List<T> failed = new ArrayList<>();
      RuntimeException last = null;
      for (int i = 0; i < pending.size(); i++) {
        R answer;
        try {
          answer = inFlight.get(i).join();
        } catch (RuntimeException e) {
          failed.add(pending.get(i));
          last = e;
          continue;
        }
        done.accept(pending.get(i), answer);
      }
      if (!failed.isEmpty() && attempt >= 10) {
        throw new IllegalStateException(failing + " (" + failed.size() + " left, e.g. key "
            + name.apply(failed.get(0)) + "): " + last, last);
      }
      if (!failed.isEmpty()) {
        Backoff.sleep(attempt, 50, 5_000);
      }
      pending = failed;
    }
  }

  private static KeyScanCursor<String> scanWithRetry(io.lettuce.core.api.sync.RedisCommands<String, byte[]> sync,
      ScanCursor cursor, ScanArgs args) {
    for (int attempt = 1; ; attempt++) {
      try {
        return sync.scan(cursor, args);
      } catch (RuntimeException e) {
        if (attempt >= 10) {
          throw new IllegalStateException("the peer Redis keeps failing SCAN: " + e, e);
        }
        Backoff.sleep(attempt, 100, 5_000);
      }
    }
  }

  /** Redis glob special characters in a prefix match themselves. */
  private static String globEscape(String s) {
    return s.replaceAll("([*?\\[\\]\\\\])", "\\\\$1");
  }

  /** Writes a page through the compare-and-set, {@value #IN_FLIGHT} at a time (pipelined). */
  private static void apply(RedisTier<byte[]> into, List<PushedUpdate> updates, AtomicLong written,
      AtomicLong notNewer) {
    for (int from = 0; from < updates.size(); from += IN_FLIGHT) {
      applyBatch(into, updates.subList(from, Math.min(updates.size(), from + IN_FLIGHT)), written, notNewer);
    }
  }

  /**
   * Writes per segment in flight at once: enough to hide Redis's round trip, few enough that none waits behind
   * thousands of others past its timeout (a timed-out write that Redis did apply comes back as not newer).
   */
  private static final int IN_FLIGHT = 256;

  /** A failed write is retried with backoff. */
  private static void applyBatch(RedisTier<byte[]> into, List<PushedUpdate> updates, AtomicLong written,
      AtomicLong notNewer) {
    inRounds(updates, u -> into.putIfNewer(u.key(), new Versioned<>(u.value(), u.version(), u.writtenAtMicros())),
        (u, took) -> (took ? written : notNewer).incrementAndGet(), "Redis keeps refusing the warm-up's writes",
        PushedUpdate::key);
  }

  /** Builds a {@link Warmup}; set one source ({@link #fromTable} or {@link #fromPeer}) and {@link #into}. */
  public static final class Builder {
    private @Nullable DynamoDbClient table;
    private @Nullable String tableName;
    private Aggregator.@Nullable Joiner joiner;
    private @Nullable RedisClient peer;
    private @Nullable String peerPrefix;
    private @Nullable RedisClient target;
    private @Nullable String prefix;
    private int segments = 4;
    private Duration redisTimeout = Duration.ofSeconds(2);
    private Aggregator.DeadLetters deadLetters = (c, e) -> { };

    private Builder() {}

    /**
     * Reads the home table with a parallel scan and turns each item into values with the joiner (called with an
     * {@link Aggregator.Change} whose event is {@code "SCAN"} and whose {@code newImage} is the item).
     *
     * @param dynamoDb a client of the home region
     * @param table the table's name (also the {@link Aggregator.Change#table()} the joiner sees)
     * @param joiner the aggregator's joiner; called from several threads at once
     * @return this builder
     */
    public Builder fromTable(DynamoDbClient dynamoDb, String table, Aggregator.Joiner joiner) {
      this.table = Objects.requireNonNull(dynamoDb, "dynamoDb");
      this.tableName = Objects.requireNonNull(table, "table");
      this.joiner = Objects.requireNonNull(joiner, "joiner");
      return this;
    }

    /**
     * Copies every value of a peer region's Redis tier (keys under the prefix, with their versions and stamps).
     *
     * @param redis the peer's Redis
     * @param keyPrefix the peer's key prefix
     * @return this builder
     */
    public Builder fromPeer(RedisClient redis, String keyPrefix) {
      this.peer = Objects.requireNonNull(redis, "redis");
      this.peerPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
      return this;
    }

    /**
     * The regional Redis tier to fill.
     *
     * @param redis the region's Redis
     * @param keyPrefix the prefix its readers and writer use
     * @return this builder
     */
    public Builder into(RedisClient redis, String keyPrefix) {
      this.target = Objects.requireNonNull(redis, "redis");
      this.prefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
      return this;
    }

    /**
     * Parallel scan segments (default 4, 1 to 1,000).
     *
     * @param segments the number of segments
     * @return this builder
     */
    public Builder segments(int segments) {
      if (segments < 1 || segments > 1_000) {
        throw new IllegalArgumentException("segments must be 1 to 1000, got " + segments);
      }
      this.segments = segments;
      return this;
    }

    /**
     * How long a Redis command may take before it counts as failed (and is retried); default 2 s.
     *
     * @param timeout the timeout, 1 ms to 1 min
     * @return this builder
     */
    public Builder redisTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.compareTo(Duration.ofMillis(1)) < 0 || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
        throw new IllegalArgumentException("redisTimeout must be 1 ms to 1 min, got " + timeout);
      }
      this.redisTimeout = timeout;
      return this;
    }

    /**
     * Receives items the joiner failed on (default: counted only).
     *
     * @param deadLetters the handler
     * @return this builder
     */
    public Builder deadLetters(Aggregator.DeadLetters deadLetters) {
      this.deadLetters = Objects.requireNonNull(deadLetters, "deadLetters");
      return this;
    }

    /**
     * Builds the warm-up.
     *
     * @return the warm-up
     * @throws IllegalStateException when no source, two sources or no target was set
     */
    public Warmup build() {
      if ((table == null) == (peer == null)) {
        throw new IllegalStateException("set exactly one source, fromTable or fromPeer; got "
            + (table == null ? "none" : "both"));
      }
      if (target == null) {
        throw new IllegalStateException("set the Redis tier to fill with into(redis, keyPrefix)");
      }
      return new Warmup(this);
    }
  }
}
