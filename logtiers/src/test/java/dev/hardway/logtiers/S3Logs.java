package dev.hardway.logtiers;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.agrona.concurrent.UnsafeBuffer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/** Reads back everything the S3 tiers wrote to a bucket, checking every frame: what a consumer would see. */
final class S3Logs {
  /** One record as found in S3. */
  record Found(String key, String type, String host, long boot, long sequence, long timestampMicros, byte[] payload) {
    String identity() {
      return host + "/" + Long.toHexString(boot) + "/" + sequence;
    }
  }

  /** Everything found. */
  record Contents(List<String> keys, List<Found> records, long corruptBytes) {
    /** How often each identity occurs. */
    Map<String, Integer> identities() {
      Map<String, Integer> m = new HashMap<>();
      for (Found f : records) {
        m.merge(f.identity(), 1, Integer::sum);
      }
      return m;
    }

    /** Identities seen more than once. */
    List<String> duplicates() {
      return identities().entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).sorted().toList();
    }
  }

  private S3Logs() {}

  static Contents read(S3Client s3, String bucket) {
    List<String> keys = new ArrayList<>();
    List<Found> records = new ArrayList<>();
    long corrupt = 0;
    for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket)).contents()) {
      keys.add(o.key());
      ObjectKeys.Key key = ObjectKeys.parse(o.key());
      byte[] body = s3.getObjectAsBytes(b -> b.bucket(bucket).key(o.key())).asByteArray();
      byte[] frames = LogRecords.decompress(body, key.compression());
      UnsafeBuffer buffer = new UnsafeBuffer(frames);
      CRC32C crc = new CRC32C();
      LogRecords.ReadResult r = LogRecords.forEach(buffer, 0, frames.length, rec -> {
        if (LogRecords.check(rec.buffer(), rec.offset(), frames.length, crc) < 0) {
          throw new AssertionError("bad frame in " + o.key());
        }
        if (!rec.type().equals(key.type())) {
          throw new AssertionError("record of type " + rec.type() + " in object " + o.key());
        }
        records.add(new Found(o.key(), rec.type(), rec.host(), rec.boot(), rec.sequence(), rec.timestampMicros(),
            rec.payload()));
      });
      corrupt += r.corruptBytes();
    }
    return new Contents(keys, records, corrupt);
  }
}
