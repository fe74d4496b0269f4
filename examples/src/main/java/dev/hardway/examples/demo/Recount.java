package dev.hardway.examples.demo;

import dev.hardway.logtiers.LogRecords;
import dev.hardway.logtiers.ObjectKeys;
import dev.hardway.s3pager.PagedObject;
import dev.hardway.s3pager.PagingMode;
import dev.hardway.s3pager.S3Pager;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The batch job after the day: maps every auction object the mid tier wrote to the main bucket with the
 * {@link S3Pager}, four at a time, and recomputes the day's spend from the records, each counted once by its identity
 * (host, boot, sequence).
 *
 * <p>The job reads through the pager's explicit path ({@link PagedObject#read}), which waits parked and never in a
 * page fault: the demo's S3 runs in this JVM, and a reader stopped in a fault would hold up the safepoint that also
 * stops that S3 (a batch job against real S3 may read {@link PagedObject#segment()} directly).
 *
 * @param objects objects read
 * @param bytes compressed bytes read
 * @param records records read
 * @param distinct distinct record identities
 * @param damaged damaged regions the reader skipped
 * @param spentMicros the spend of won auctions
 * @param spentByBox the same per box ({@code region/box})
 * @param took how long the job ran, the pager's start included
 * @param mode how the pager paged
 * @param firstByteP50 the median time from opening an object to holding its first byte
 * @param firstByteMax the longest such time
 */
record Recount(long objects, long bytes, long records, long distinct, long damaged, long spentMicros,
    Map<String, Long> spentByBox, Duration took, PagingMode mode, Duration firstByteP50, Duration firstByteMax) {

  private static final int READERS = 4;

  private static byte[] get(Future<byte[]> body) {
    try {
      return body.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException("the recount could not read an object: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("the recount was interrupted", e);
    }
  }

  static Recount mainBucket(S3Client s3, URI endpoint, String region, AwsCredentialsProvider credentials,
      String bucket) {
    long start = System.nanoTime();
    long objects = 0;
    long bytes = 0;
    long[] records = {0};
    long damaged = 0;
    long[] spent = {0};
    Set<String> identities = new HashSet<>();
    Map<String, Long> byBox = new HashMap<>();
    List<Long> firstByte = new ArrayList<>();
    PagingMode mode;
    try (S3Pager pager = S3Pager.builder().region(region).endpoint(endpoint).pathStyle(true)
        .credentialsProvider(credentials).build();
        ExecutorService readers = Executors.newFixedThreadPool(READERS)) {
      mode = pager.mode();
      // The mid tier writes many small objects: map a few at a time (each open is one GET), decode in order.
      List<Future<byte[]>> bodies = new ArrayList<>();
      List<ObjectKeys.Key> keys = new ArrayList<>();
      for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix("auction/")).contents()) {
        keys.add(ObjectKeys.parse(o.key()));
        bodies.add(readers.submit(() -> {
          long opening = System.nanoTime();
          try (PagedObject object = pager.open(bucket, o.key())) {
            byte[] body = new byte[Math.toIntExact(object.size())];
            if (body.length > 0) {
              object.read(0, body, 0, 1);
              long took = System.nanoTime() - opening;
              synchronized (firstByte) {
                firstByte.add(took);
              }
              object.read(0, body, 0, body.length);
            }
            return body;
          }
        }));
      }
      for (int i = 0; i < bodies.size(); i++) {
        ObjectKeys.Key key = keys.get(i);
        byte[] body = get(bodies.get(i));
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
    }
    Collections.sort(firstByte);
    Duration p50 = firstByte.isEmpty() ? Duration.ZERO : Duration.ofNanos(firstByte.get(firstByte.size() / 2));
    Duration max = firstByte.isEmpty() ? Duration.ZERO : Duration.ofNanos(firstByte.getLast());
    return new Recount(objects, bytes, records[0], identities.size(), damaged, spent[0], byBox,
        Duration.ofNanos(System.nanoTime() - start), mode, p50, max);
  }
}
