package dev.hardway.examples.demo;

import dev.hardway.logtiers.LogRecords;
import dev.hardway.logtiers.ObjectKeys;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The batch job after the day: reads every auction object the mid tier wrote to the main bucket and recomputes the
 * day's spend from the records, each counted once by its identity (host, boot, sequence).
 *
 * @param objects objects read
 * @param bytes compressed bytes read
 * @param records records read
 * @param distinct distinct record identities
 * @param damaged damaged regions the reader skipped
 * @param spentMicros the spend of won auctions
 * @param spentByBox the same per box ({@code region/box})
 * @param took how long the job ran
 */
record Recount(long objects, long bytes, long records, long distinct, long damaged, long spentMicros,
    Map<String, Long> spentByBox, Duration took) {

  static Recount mainBucket(S3Client s3, String bucket) {
    long start = System.nanoTime();
    long objects = 0;
    long bytes = 0;
    long[] records = {0};
    long damaged = 0;
    long[] spent = {0};
    Set<String> identities = new HashSet<>();
    Map<String, Long> byBox = new HashMap<>();
    for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix("auction/")).contents()) {
      ObjectKeys.Key key = ObjectKeys.parse(o.key());
      byte[] body = s3.getObjectAsBytes(b -> b.bucket(bucket).key(o.key())).asByteArray();
      objects++;
      bytes += body.length;
      LogRecords.ReadResult r = LogRecords.forEach(LogRecords.decompress(body, key.compression()), rec -> {
        records[0]++;
        if (identities.add(rec.host() + "/" + Long.toHexString(rec.boot()) + "/" + rec.sequence())) {
          // id, region, box, user, won, price, freshness
          String[] f = new String(rec.payload(), StandardCharsets.UTF_8).split("\t");
          if (f[4].equals("1")) {
            long price = Long.parseLong(f[5]);
            spent[0] += price;
            byBox.merge(f[1] + "/" + f[2], price, Long::sum);
          }
        }
      });
      damaged += r.corruptRegions();
    }
    return new Recount(objects, bytes, records[0], identities.size(), damaged, spent[0], byBox,
        Duration.ofNanos(System.nanoTime() - start));
  }
}
