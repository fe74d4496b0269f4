package dev.hardway.examples.s3pager;

import dev.hardway.s3pager.PagedObject;
import dev.hardway.s3pager.PagerStats;
import dev.hardway.s3pager.S3Pager;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.LocalAwsMain;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * Scans a 256 MiB S3 object through {@link S3Pager}: work starts as soon as the object is opened, and pages arrive as
 * the scan touches them.
 *
 * <p>The test kit's S3 runs in a process of its own here, as real S3 does: a reader waiting on a page holds up its
 * JVM's safepoints, which would also stop an S3 server running in the same JVM (see the s3pager README).
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl examples exec:java
 * -Dexample=dev.hardway.examples.s3pager.S3PagerExample}
 */
public final class S3PagerExample {
  private static final long SIZE = 256L << 20;
  private static final int PART = 8 << 20;

  private S3PagerExample() {}

  /**
   * Runs the example.
   *
   * @param args none
   * @throws Exception when the local S3 fails
   */
  public static void main(String[] args) throws Exception {
    Process s3Server = startS3();
    try {
      URI endpoint = endpointOf(s3Server);
      StaticCredentialsProvider credentials = StaticCredentialsProvider.create(
          AwsBasicCredentials.create(LocalAws.DEFAULT_ACCESS_KEY_ID, LocalAws.DEFAULT_SECRET_ACCESS_KEY));
      try (S3Client s3 = S3Client.builder().region(Region.of(LocalAws.DEFAULT_REGION)).endpointOverride(endpoint)
          .forcePathStyle(true).credentialsProvider(credentials).build()) {
        s3.createBucket(b -> b.bucket("events"));
        long expected = upload(s3, "events", "2026-11-28.bin");
        System.out.printf(Locale.ROOT, "uploaded s3://events/2026-11-28.bin: %,d MiB in %,d parts%n", SIZE >> 20,
            SIZE / PART);

        try (S3Pager pager = S3Pager.builder().region(LocalAws.DEFAULT_REGION).endpoint(endpoint).pathStyle(true)
            .credentialsProvider(credentials).build()) {
          long start = System.nanoTime();
          try (PagedObject events = pager.open("events", "2026-11-28.bin")) {
            long opened = System.nanoTime() - start;
            MemorySegment bytes = events.segment();
            long sum = 0;
            for (long i = 0; i + 8 <= bytes.byteSize(); i += 8) {
              sum += bytes.get(ValueLayout.JAVA_LONG_UNALIGNED, i);
            }
            long scanned = System.nanoTime() - start;
            PagerStats stats = events.stats();
            System.out.printf(Locale.ROOT, "opened in %.1f ms (%s, handler process %d); scanned %,d MiB in %.2f s"
                    + " (%.0f MB/s)%n", opened / 1e6, events.mode(), events.handlerPid(), SIZE >> 20,
                scanned / 1e9, SIZE / 1e6 / (scanned / 1e9));
            System.out.printf(Locale.ROOT, "checksum %s the uploaded bytes'%n", sum == expected ? "matches" : "DIFFERS"
                + " from");
            System.out.printf(Locale.ROOT, "%,d ranged GETs, %,d MiB fetched, %,d faults, %,d of them waited for S3,"
                    + " %,d served from readahead markers%n", stats.fetches(), stats.bytesFetched() >> 20,
                stats.faults(), stats.stalls(), stats.markerHits());
            byte[] tail = new byte[16];
            events.read(SIZE - tail.length, tail, 0, tail.length);
            System.out.printf(Locale.ROOT, "the explicit path read the last %d bytes too (it never waits in a page"
                + " fault)%n", tail.length);
            if (sum != expected) {
              throw new IllegalStateException("the paged bytes differ from the uploaded ones");
            }
          }
        }
      }
    } finally {
      s3Server.destroy();
      if (!s3Server.waitFor(10, TimeUnit.SECONDS)) {
        s3Server.destroyForcibly();
      }
    }
  }

  /** The test kit's S3 in a JVM of its own. */
  private static Process startS3() throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(classPath());
    command.add(LocalAwsMain.class.getName());
    command.add("--services");
    command.add("s3");
    return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  /** This JVM's class path, or, under a launcher with a class loader of its own (exec:java), that loader's. */
  private static String classPath() {
    if (S3PagerExample.class.getClassLoader() instanceof URLClassLoader loader) {
      List<String> entries = new ArrayList<>();
      for (URL url : loader.getURLs()) {
        try {
          entries.add(Path.of(url.toURI()).toString());
        } catch (URISyntaxException | IllegalArgumentException e) {
          // Not a file.
        }
      }
      return String.join(File.pathSeparator, entries);
    }
    return System.getProperty("java.class.path");
  }

  /** Reads the server's banner until it names the S3 endpoint. */
  private static URI endpointOf(Process server) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
    for (String line; (line = out.readLine()) != null; ) {
      String trimmed = line.strip();
      if (trimmed.startsWith("s3 ")) {
        URI endpoint = URI.create(trimmed.substring(3).strip());
        // Keep draining its output so that it never blocks on a full pipe.
        Thread.ofPlatform().daemon().start(() -> {
          try {
            while (out.readLine() != null) {
              continue;
            }
          } catch (IOException e) {
            // It ended.
          }
        });
        return endpoint;
      }
    }
    throw new IllegalStateException("the local S3 exited before it named its endpoint (exit code "
        + server.onExit().join().exitValue() + ")");
  }

  /** A multipart upload of deterministic bytes; returns the sum of its longs, as the scan computes it. */
  private static long upload(S3Client s3, String bucket, String key) {
    String id = s3.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
    List<CompletedPart> parts = new ArrayList<>();
    ByteBuffer part = ByteBuffer.allocate(PART);
    long sum = 0;
    for (long off = 0; off < SIZE; off += PART) {
      for (int i = 0; i < PART; i += 8) {
        long v = (off + i) * 0x9E3779B97F4A7C15L;
        part.putLong(i, v);
        sum += Long.reverseBytes(v);
      }
      int number = (int) (off / PART) + 1;
      String eTag = s3.uploadPart(b -> b.bucket(bucket).key(key).uploadId(id).partNumber(number),
          RequestBody.fromBytes(part.array())).eTag();
      parts.add(CompletedPart.builder().partNumber(number).eTag(eTag).build());
    }
    s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(id).multipartUpload(m -> m.parts(parts)));
    return sum;
  }
}
