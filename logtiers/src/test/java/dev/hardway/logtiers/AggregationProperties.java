package dev.hardway.logtiers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.logtiers.internal.KplAggregate;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.StringLength;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.kinesis.retrieval.AggregatorUtil;
import software.amazon.kinesis.retrieval.KinesisClientRecord;

/** The hand-written KPL encoder against the real KCL de-aggregation. */
class AggregationProperties {
  private static final BigInteger MAX_HASH_KEY = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);

  @Property(tries = 60)
  void aggregates_deaggregateWithTheKcl_toExactlyThePayloads_inOrder_withinOneMebibyte(
      @ForAll("payloads") List<byte[]> payloads, @ForAll @AlphaChars @StringLength(min = 1, max = 40) String key,
      @ForAll("hashKeys") BigInteger hashKey) {
    byte[] partitionKey = key.getBytes(StandardCharsets.UTF_8);
    List<KplAggregate> aggregates = new ArrayList<>();
    KplAggregate open = new KplAggregate(partitionKey);
    for (byte[] p : payloads) {
      if (open.tryAppend(p, 0, p.length) < 0) {
        aggregates.add(open);
        open = new KplAggregate(partitionKey);
        assertThat(open.tryAppend(p, 0, p.length)).as("an empty aggregate takes any payload that fits").isZero();
      }
    }
    if (open.count() > 0) {
      aggregates.add(open);
    }
    List<byte[]> back = new ArrayList<>();
    for (KplAggregate a : aggregates) {
      String ehk = hashKey.toString();
      byte[] data = a.encode(ehk);
      assertThat(data).hasSize(a.encodedLength(ehk.length()));
      assertThat(a.kinesisBytes(ehk.length())).isEqualTo(data.length + partitionKey.length)
          .isLessThanOrEqualTo(KplAggregate.MAX_KINESIS_RECORD_BYTES);
      List<KinesisClientRecord> out = new AggregatorUtil().deaggregate(List.of(kcl(data, key, ehk)), hashKey,
          hashKey);
      assertThat(out).hasSize(a.count());
      for (KinesisClientRecord r : out) {
        assertThat(r.aggregated()).isEqualTo(!a.raw());
        back.add(bytes(r.data()));
      }
    }
    assertThat(back).containsExactlyElementsOf(payloads);
  }

  @Example
  void aPayloadThatFitsOnlyUnaggregated_goesRaw_andTheKclPassesItThrough() {
    byte[] key = "h".getBytes(StandardCharsets.UTF_8);
    byte[] payload = random(KplAggregate.MAX_KINESIS_RECORD_BYTES - key.length, 7);
    KplAggregate a = new KplAggregate(key);
    assertThat(a.tryAppend(payload, 0, payload.length)).isZero();
    assertThat(a.raw()).isTrue();
    assertThat(a.tryAppend(new byte[1], 0, 1)).as("a raw aggregate holds one record").isNegative();
    assertThat(a.kinesisBytes(39)).isEqualTo(KplAggregate.MAX_KINESIS_RECORD_BYTES);
    List<KinesisClientRecord> out = new AggregatorUtil().deaggregate(List.of(kcl(a.encode("0"), "h", "0")));
    assertThat(out).singleElement().satisfies(r -> assertThat(bytes(r.data())).isEqualTo(payload));
    KplAggregate b = new KplAggregate(key);
    assertThat(b.tryAppend(new byte[payload.length + 1], 0, payload.length + 1)).as("over 1 MiB with the key")
        .isNegative();
  }

  @Example
  void theKclDropsAWholeAggregate_whenItsHashKeyIsOutsideTheShard() {
    KplAggregate a = new KplAggregate("h".getBytes(StandardCharsets.UTF_8));
    a.tryAppend(new byte[] {1, 2, 3}, 0, 3);
    a.tryAppend(new byte[] {4}, 0, 1);
    byte[] data = a.encode("1000");
    assertThat(new AggregatorUtil().deaggregate(List.of(kcl(data, "h", "1000")), BigInteger.ZERO,
        BigInteger.valueOf(999))).isEmpty();
    assertThat(new AggregatorUtil().deaggregate(List.of(kcl(data, "h", "1000")), BigInteger.valueOf(1000),
        MAX_HASH_KEY)).hasSize(2);
  }

  @Provide
  Arbitrary<List<byte[]>> payloads() {
    Arbitrary<byte[]> small = Combinators.combine(Arbitraries.integers().between(0, 3_000), Arbitraries.longs())
        .as(AggregationProperties::random);
    Arbitrary<byte[]> large = Combinators.combine(Arbitraries.integers().between(100_000, 600_000),
        Arbitraries.longs()).as(AggregationProperties::random);
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(10, small), net.jqwik.api.Tuple.of(1, large)).list().ofMaxSize(40);
  }

  @Provide
  Arbitrary<BigInteger> hashKeys() {
    return Arbitraries.oneOf(Arbitraries.of(BigInteger.ZERO, MAX_HASH_KEY),
        Arbitraries.bigIntegers().between(BigInteger.ZERO, MAX_HASH_KEY));
  }

  private static byte[] random(int length, long seed) {
    byte[] b = new byte[length];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  private static KinesisClientRecord kcl(byte[] data, String partitionKey, String hashKey) {
    return KinesisClientRecord.fromRecord(Record.builder().data(SdkBytes.fromByteArray(data))
        .partitionKey(partitionKey).sequenceNumber("49590338271490256608559692538361571095921575989136588898")
        .approximateArrivalTimestamp(Instant.now()).build()).toBuilder().explicitHashKey(hashKey).build();
  }

  static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer b = buffer.duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }
}
