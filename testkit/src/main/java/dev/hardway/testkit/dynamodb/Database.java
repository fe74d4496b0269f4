package dev.hardway.testkit.dynamodb;

import java.math.BigInteger;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** The server's one namespace: tables, streams, the sequence counter, the clock and the counters behind stats. */
final class Database {

  /** Sequence numbers are this plus a counter: numeric strings of 21 digits, as in DynamoDB. */
  private static final BigInteger SEQUENCE_BASE = BigInteger.TEN.pow(20);

  final String region;
  final String accountId;
  final InstantSource clock;
  final int streamRecordLimit;
  final ConcurrentHashMap<String, Table> tables = new ConcurrentHashMap<>();
  private final ConcurrentSkipListMap<String, Stream> streams = new ConcurrentSkipListMap<>();
  private final AtomicLong sequence = new AtomicLong();
  private final AtomicLong tableIds = new AtomicLong();
  private final byte[] secret;
  private final long saltHigh;
  private final long saltLow;

  final ClientTokens clientTokens = new ClientTokens();
  final LongAdder requests = new LongAdder();
  final LongAdder errors = new LongAdder();
  final LongAdder recordsWritten = new LongAdder();
  final LongAdder recordsTrimmed = new LongAdder();

  Database(String region, String accountId, InstantSource clock, int streamRecordLimit, byte[] secret) {
    this.region = region;
    this.accountId = accountId;
    this.clock = clock;
    this.streamRecordLimit = streamRecordLimit;
    this.secret = secret.clone();
    long a = 0;
    long b = 0;
    for (int i = 0; i < 8; i++) {
      a = (a << 8) | (secret[i] & 0xff);
      b = (b << 8) | (secret[8 + i] & 0xff);
    }
    this.saltHigh = a;
    this.saltLow = b;
  }

  Instant now() {
    return clock.instant();
  }

  byte[] secret() {
    return secret.clone();
  }

  String tableArn(String table) {
    return "arn:aws:dynamodb:" + region + ":" + accountId + ":table/" + table;
  }

  String newTableId() {
    long n = tableIds.incrementAndGet();
    long x = mix(n ^ saltHigh);
    long y = mix(n ^ saltLow);
    String hex = String.format(Locale.ROOT, "%016x%016x", x, y);
    return hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-4" + hex.substring(13, 16) + "-8"
        + hex.substring(17, 20) + "-" + hex.substring(20, 32);
  }

  /** The table, or DynamoDB's ResourceNotFoundException. */
  Table table(String name) {
    Table table = tables.get(name);
    if (table == null) {
      throw ServiceError.tableNotFound(name);
    }
    return table;
  }

  long nextSequence() {
    return sequence.incrementAndGet();
  }

  String sequenceText(long n) {
    return SEQUENCE_BASE.add(BigInteger.valueOf(n)).toString();
  }

  long parseSequence(String text, String member) {
    boolean digits = !text.isEmpty() && text.length() <= 40;
    for (int i = 0; digits && i < text.length(); i++) {
      digits = Character.isDigit(text.charAt(i)) && text.charAt(i) < 128;
    }
    if (digits) {
      BigInteger n = new BigInteger(text).subtract(SEQUENCE_BASE);
      if (n.signum() >= 0 && n.bitLength() < 63) {
        return n.longValue();
      }
    }
    throw ServiceError.validation("Invalid SequenceNumber for " + member + ": \"" + Wire.shorten(text)
        + "\" is not a sequence number this server issued");
  }

  /** A unique event id, 32 hex digits; unique because {@link #mix} is a bijection. */
  String eventId(long sequence) {
    return String.format(Locale.ROOT, "%016x%016x", mix(sequence ^ saltHigh), mix(sequence + saltLow));
  }

  /** A bijective 64-bit mixer (the SplitMix64 finalizer). */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  void register(Stream stream) {
    streams.put(stream.arn, stream);
  }

  boolean streamExists(String arn) {
    return streams.containsKey(arn);
  }

  Stream stream(String arn) {
    Stream stream = streams.get(arn);
    if (stream != null && stream.expired(now())) {
      streams.remove(arn, stream);
      stream = null;
    }
    if (stream == null) {
      throw ServiceError.notFound("Requested resource not found: Stream: " + arn + " not found");
    }
    return stream;
  }

  /** Every stream still readable, ordered by ARN. */
  List<Stream> streams() {
    forgetExpiredStreams();
    return new ArrayList<>(streams.values());
  }

  private void forgetExpiredStreams() {
    Instant now = now();
    for (Map.Entry<String, Stream> e : streams.entrySet()) {
      if (e.getValue().expired(now)) {
        streams.remove(e.getKey(), e.getValue());
      }
    }
  }
}
