package dev.hardway.logtiers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.agrona.concurrent.UnsafeBuffer;

/** The framing and the key format: what goes in comes out, and damage costs only the frames it touches. */
class FramingProperties {

  private static byte[] frame(String host, String type, long boot, long seq, long ts, byte[] payload) {
    byte[] h = host.getBytes(StandardCharsets.UTF_8);
    byte[] t = type.getBytes(StandardCharsets.UTF_8);
    int length = LogRecords.HEADER_LENGTH + h.length + t.length + payload.length;
    ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(length).putInt(0).put(LogRecords.VERSION).put((byte) h.length).put((byte) t.length).put((byte) 0)
        .putLong(boot).putLong(seq).putLong(ts).put(h).put(t).put(payload);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 8, length - 8);
    b.putInt(4, (int) crc.getValue());
    return b.array();
  }

  @Provide
  Arbitrary<List<byte[]>> payloads() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(300).list().ofMaxSize(60);
  }

  @Property(tries = 300)
  void everyIntactFrame_isRead_andEveryDamagedOne_isSkipped(@ForAll("payloads") List<byte[]> payloads,
      @ForAll @IntRange(min = 0, max = 5) int damages, @ForAll long seed) {
    List<byte[]> frames = new ArrayList<>();
    int total = 0;
    for (int i = 0; i < payloads.size(); i++) {
      byte[] f = frame("host-" + (i % 3), "type" + (i % 2), 42, i, 1_000 + i, payloads.get(i));
      frames.add(f);
      total += f.length;
    }
    byte[] all = new byte[total];
    int[] starts = new int[frames.size()];
    int at = 0;
    for (int i = 0; i < frames.size(); i++) {
      starts[i] = at;
      System.arraycopy(frames.get(i), 0, all, at, frames.get(i).length);
      at += frames.get(i).length;
    }
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    java.util.Set<Integer> damaged = new java.util.HashSet<>();
    for (int d = 0; d < damages && total > 0; d++) {
      int pos = random.nextInt(total);
      all[pos] ^= (byte) (1 + random.nextInt(255));
      for (int i = 0; i < starts.length; i++) {
        if (pos >= starts[i] && pos < starts[i] + frames.get(i).length) {
          damaged.add(i);
        }
      }
    }
    List<Long> read = new ArrayList<>();
    LogRecords.ReadResult r = LogRecords.forEach(new UnsafeBuffer(all), 0, all.length, rec -> {
      read.add(rec.sequence());
      assertThat(rec.host()).isEqualTo("host-" + (rec.sequence() % 3));
      assertThat(rec.payload()).isEqualTo(payloads.get((int) rec.sequence()));
    });
    List<Long> intact = new ArrayList<>();
    for (int i = 0; i < frames.size(); i++) {
      if (!damaged.contains(i)) {
        intact.add((long) i);
      }
    }
    // A damaged frame is skipped; a valid frame is never invented from damaged bytes (its CRC32C would have to
    // match by chance, one in four billion), and no intact frame is lost.
    assertThat(read).containsAll(intact);
    assertThat(read).allSatisfy(s -> assertThat(damaged).doesNotContain(s.intValue()));
    assertThat(r.records()).isEqualTo(read.size());
    assertThat(r.corruptRegions() > 0).isEqualTo(!damaged.isEmpty());
  }

  @Property(tries = 300)
  void keys_parseBackToWhatBuiltThem(@ForAll @LongRange(min = 0, max = 4_102_444_800L) long epochSecond,
      @ForAll long boot, @ForAll @LongRange(min = 0, max = 999_999_999_999L) long segment,
      @ForAll("types") String type, @ForAll("hosts") String host, @ForAll boolean zstd) {
    Compression c = zstd ? Compression.ZSTD : Compression.GZIP;
    Instant opened = Instant.ofEpochSecond(epochSecond);
    String key = ObjectKeys.key("logs/", type, opened, "ap-south-1", host, boot, segment, c);
    assertThat(key).doesNotContain(":");
    ObjectKeys.Key parsed = ObjectKeys.parse(key);
    assertThat(parsed.prefix()).isEqualTo("logs/");
    assertThat(parsed.type()).isEqualTo(type);
    assertThat(parsed.hour()).isEqualTo(Instant.ofEpochSecond(epochSecond / 3600 * 3600));
    assertThat(parsed.region()).isEqualTo("ap-south-1");
    assertThat(parsed.host()).isEqualTo(ObjectKeys.hostForKey(host));
    assertThat(parsed.boot()).isEqualTo(boot);
    assertThat(parsed.segment()).isEqualTo(segment);
    assertThat(parsed.compression()).isEqualTo(c);
    assertThat(key).startsWith(ObjectKeys.hourPrefix("logs/", type, opened));
  }

  @Provide
  Arbitrary<String> types() {
    return Arbitraries.strings().withChars("abcxyz019._-").ofMinLength(1).ofMaxLength(20);
  }

  @Provide
  Arbitrary<String> hosts() {
    return Arbitraries.strings().withChars("abcXYZ09.-_ /é").ofMinLength(1).ofMaxLength(30);
  }
}
