package dev.hardway.procache;

import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The regional Redis tier. A key is a hash: {@code v} the version, {@code s} the home write time (µs), {@code t} 1 for
 * a tombstone, {@code d} the encoded value. Writes go through a Lua compare-and-set, so an older or equal version
 * never replaces what is there, whoever writes (the stream's writer, a read-through fill, a warm-up).
 */
final class RedisTier<V> implements AutoCloseable {
  /** KEYS[1] key; ARGV: version, stamp, tombstone flag, data, ttl seconds (0 none). 1 when applied, 0 when not newer. */
  static final String CAS = """
      local cur = redis.call('HGET', KEYS[1], 'v')
      if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
      redis.call('HSET', KEYS[1], 'v', ARGV[1], 's', ARGV[2], 't', ARGV[3], 'd', ARGV[4])
      if tonumber(ARGV[5]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
      return 1
      """;
  private static final byte[] EMPTY = new byte[0];

  private final StatefulRedisConnection<String, byte[]> connection;
  private final RedisAsyncCommands<String, byte[]> commands;
  private final ValueCodec<V> codec;
  private final String prefix;
  private final long timeoutNanos;
  private final long ttlSeconds;
  private volatile String sha;

  RedisTier(RedisClient client, String prefix, ValueCodec<V> codec, Duration timeout, Duration ttl) {
    this.connection = client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
    this.commands = connection.async();
    this.codec = codec;
    this.prefix = prefix;
    this.timeoutNanos = timeout.toNanos();
    this.ttlSeconds = ttl.toSeconds();
    this.sha = connection.sync().scriptLoad(CAS);
  }

  String key(String name) {
    return prefix + name;
  }

  /**
   * Fails at once while the connection is down. Lettuce would otherwise queue every command until it reconnects
   * (its default for an auto-reconnecting client), and a reader missing thousands of keys a second during a Redis
   * outage would grow that queue without bound.
   */
  private static <T> CompletableFuture<T> notConnected() {
    return CompletableFuture.failedFuture(
        new RedisConnectionException("the connection to Redis is down (reconnecting); not queueing the command"));
  }

  /** The stored value, or {@code null} when Redis has nothing for the key. */
  CompletableFuture<@Nullable Versioned<V>> get(String name) {
    if (!connection.isOpen()) {
      return notConnected();
    }
    return commands.hmget(key(name), "v", "s", "t", "d").toCompletableFuture()
        .orTimeout(timeoutNanos, TimeUnit.NANOSECONDS)
        .thenApply(this::decode);
  }

  private @Nullable Versioned<V> decode(List<KeyValue<String, byte[]>> fields) {
    if (fields.size() < 4 || !fields.get(0).hasValue()) {
      return null;
    }
    long version = Long.parseLong(ascii(fields.get(0)));
    long stamp = fields.get(1).hasValue() ? Long.parseLong(ascii(fields.get(1))) : 0;
    boolean tombstone = fields.get(2).hasValue() && ascii(fields.get(2)).equals("1");
    if (tombstone || !fields.get(3).hasValue()) {
      return Versioned.absent(version, stamp);
    }
    return Versioned.of(codec.decode(fields.get(3).getValue()), version, stamp);
  }

  private static String ascii(KeyValue<String, byte[]> kv) {
    return new String(kv.getValue(), StandardCharsets.US_ASCII);
  }

  /** Writes the value unless Redis holds the same or a newer version; true when written. */
  CompletableFuture<Boolean> putIfNewer(String name, Versioned<V> value) {
    if (!connection.isOpen()) {
      return notConnected();
    }
    V v = value.value();
    byte[][] args = {
        Long.toString(value.version()).getBytes(StandardCharsets.US_ASCII),
        Long.toString(value.writtenAtMicros()).getBytes(StandardCharsets.US_ASCII),
        (v == null ? "1" : "0").getBytes(StandardCharsets.US_ASCII),
        v == null ? EMPTY : codec.encode(v),
        Long.toString(ttlSeconds).getBytes(StandardCharsets.US_ASCII)
    };
    String[] keys = {key(name)};
    return eval(keys, args).toCompletableFuture().handle((applied, failure) -> {
      if (failure != null && unwrap(failure) instanceof RedisNoScriptException) {
        // Redis restarted or flushed its scripts: load it again, once.
        return commands.scriptLoad(CAS).toCompletableFuture().thenCompose(s -> {
          sha = s;
          return eval(keys, args).toCompletableFuture();
        });
      }
      return failure != null ? CompletableFuture.<Long>failedFuture(failure) : CompletableFuture.completedFuture(applied);
    }).thenCompose(f -> f).thenApply(n -> n == 1L).orTimeout(timeoutNanos, TimeUnit.NANOSECONDS);
  }

  private CompletionStage<Long> eval(String[] keys, byte[][] args) {
    return commands.<Long>evalsha(sha, ScriptOutputType.INTEGER, keys, args);
  }

  private static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof java.util.concurrent.CompletionException || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  /**
   * Takes the region-wide lease on loading a key from home, memcache-style: true for the one caller per lease window
   * (across every process sharing this Redis), false for the others, who wait for the value to appear instead.
   */
  CompletableFuture<Boolean> tryLease(String name, long leaseMillis) {
    if (!connection.isOpen()) {
      return notConnected();
    }
    return commands.set(key(name) + ":lease", new byte[] {1},
            io.lettuce.core.SetArgs.Builder.nx().px(leaseMillis)).toCompletableFuture()
        .orTimeout(timeoutNanos, TimeUnit.NANOSECONDS)
        .thenApply("OK"::equals);
  }

  /** Keeps a poison record's bytes in a capped list for a person to look at. */
  void deadLetter(String listKey, byte[] data) {
    commands.lpush(listKey, data);
    commands.ltrim(listKey, 0, 9_999);
  }

  @Override
  public void close() {
    connection.close();
  }
}
