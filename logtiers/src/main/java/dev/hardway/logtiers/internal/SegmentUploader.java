package dev.hardway.logtiers.internal;

import com.github.luben.zstd.ZstdOutputStream;
import dev.hardway.logtiers.Alarm;
import dev.hardway.logtiers.Compression;
import dev.hardway.logtiers.DropReason;
import dev.hardway.logtiers.LogRecord;
import dev.hardway.logtiers.LogRecords;
import dev.hardway.logtiers.ObjectKeys;
import dev.hardway.logtiers.S3Tier;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPOutputStream;
import org.agrona.concurrent.UnsafeBuffer;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Uploads sealed segments, oldest first, one at a time: each segment becomes one object per log type it holds,
 * compressed, under a deterministic key and written with {@code If-None-Match: *}, so that a retry after a crash (S3
 * answered 200, the process died before deleting the file) finds the object there (412) instead of writing a
 * duplicate. A 412 is accepted only when the object's recorded SHA-256 of the uncompressed frames is ours; otherwise
 * the segment is kept and {@link Alarm.Kind#KEY_CONFLICT} raised. The segment file is deleted only after every object
 * of it is confirmed. Failures are retried for ever with backoff and jitter; nothing is deleted because of one.
 */
final class SegmentUploader {
  static final String META_SHA256 = "logtiers-sha256";
  static final String META_RECORDS = "logtiers-records";

  private final S3Tier config;
  private final TierCounters counters;
  private final TierContext context;
  private final AtomicLong diskBytes;
  private final AtomicLong diskSegments;
  private final LinkedBlockingDeque<Path> queue = new LinkedBlockingDeque<>();
  private byte[] frame = new byte[64 << 10];
  private volatile boolean stopping;
  /** Segments queued or being uploaded: close() waits for zero. */
  private final java.util.concurrent.atomic.AtomicInteger outstanding = new java.util.concurrent.atomic.AtomicInteger();
  private volatile @Nullable Instant oldestPending;
  private @Nullable Thread thread;
  private int failures;

  SegmentUploader(S3Tier config, TierCounters counters, TierContext context, AtomicLong diskBytes,
      AtomicLong diskSegments) {
    this.config = config;
    this.counters = counters;
    this.context = context;
    this.diskBytes = diskBytes;
    this.diskSegments = diskSegments;
  }

  void start() {
    Thread t = context.threads().newThread(this::loop);
    t.setName("hardway-logtiers-" + config.tier().name().toLowerCase(java.util.Locale.ROOT) + "-uploader");
    thread = t;
    t.start();
  }

  void enqueue(Path sealed) {
    outstanding.incrementAndGet();
    queue.addLast(sealed);
  }

  /** Discards the oldest sealed segment not being uploaded (high tier over its disk budget). */
  boolean evictOldest() {
    Path oldest = queue.pollFirst();
    if (oldest == null) {
      return false;
    }
    outstanding.decrementAndGet();
    long records = 0;
    Optional<Read> read = Optional.empty();
    try {
      read = count(oldest);
    } catch (IOException ignored) {
      // Counted as unknown below.
    }
    records = read.map(r -> r.records).orElse(0L);
    boolean ours = read.map(r -> r.header.boot() == context.boot()).orElse(false);
    if (ours) {
      counters.dropped(DropReason.SPOOL_FULL, records);
    } else {
      counters.recoveredDropped(records);
    }
    delete(oldest);
    return true;
  }

  private void loop() {
    while (!stopping) {
      Path next;
      try {
        next = queue.pollFirst(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        if (stopping) {
          return;
        }
        continue;
      }
      checkLate(next);
      if (next == null) {
        continue;
      }
      if (!uploadUntilDone(next)) {
        // Stopped mid-way: the segment stays on disk for the next run.
        return;
      }
      outstanding.decrementAndGet();
    }
  }

  private void checkLate(@Nullable Path next) {
    Path oldest = next != null ? next : queue.peekFirst();
    Instant opened = null;
    if (oldest != null) {
      try {
        opened = read(oldest, true).map(r -> r.header.openedAt()).orElse(null);
      } catch (IOException ignored) {
        opened = null;
      }
    }
    oldestPending = opened;
    Duration target = config.deliveryTarget();
    boolean late = opened != null && Duration.between(opened, context.clock().instant()).compareTo(target) > 0;
    context.alarm(counters, Alarm.Kind.DELIVERY_LATE, late
        ? "a " + config.tier() + " segment opened at " + opened + " is still not in s3://" + config.bucket()
            + " after the delivery target of " + target
        : config.tier() + " uploads are within the delivery target", late);
  }

  /** Uploads one segment, retrying for ever; false when told to stop first. */
  private boolean uploadUntilDone(Path segment) {
    while (!stopping) {
      try {
        Outcome outcome = upload(segment);
        failures = 0;
        context.alarm(counters, Alarm.Kind.DESTINATION_REFUSED, "s3://" + config.bucket() + " takes uploads again",
            false);
        if (outcome == Outcome.CONFLICT) {
          // Kept on disk, out of the queue: a person must look (the alarm names the key).
          return true;
        }
        return true;
      } catch (S3Exception e) {
        if (stopping) {
          break;
        }
        int status = e.statusCode();
        if (status == 403 || status == 404 || status == 301) {
          context.alarm(counters, Alarm.Kind.DESTINATION_REFUSED, "s3://" + config.bucket() + " refuses uploads ("
              + status + " " + (e.awsErrorDetails() != null ? e.awsErrorDetails().errorCode() : "") + "); "
              + "segments are kept on disk", true);
        }
        retryLater(segment, e);
      } catch (IOException | RuntimeException e) {
        // An interrupt from close() surfaces as AbortedException or ClosedByInterruptException: not a failure.
        if (stopping) {
          break;
        }
        retryLater(segment, e);
      }
    }
    queue.addFirst(segment);
    return false;
  }

  private void retryLater(Path segment, Exception e) {
    // An outage keeps the uploader in this loop: the delivery target is checked here too.
    checkLate(segment);
    failures++;
    counters.retried();
    context.failure(config.tier(), e);
    long wait = context.backoffMillis(config.retryBase().toMillis(), config.retryMax().toMillis(), failures);
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait);
    while (!stopping && System.nanoTime() - until < 0) {
      try {
        Thread.sleep(Math.min(50, Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()))));
      } catch (InterruptedException ie) {
        return;
      }
    }
  }

  private enum Outcome { DONE, CONFLICT }

  private Outcome upload(Path segment) throws IOException {
    Optional<Read> maybe = read(segment, false);
    if (maybe.isEmpty()) {
      // The header itself is torn: only a crash while the file was being created does that, before any frame.
      Path aside = segment.resolveSibling(segment.getFileName() + JournalWorker.CORRUPT);
      Files.move(segment, aside, StandardCopyOption.ATOMIC_MOVE);
      counters.corruptRegions(1);
      context.alarm(counters, Alarm.Kind.DISK_ERROR, "segment " + segment.getFileName() + " has an unreadable "
          + "header; kept as " + aside.getFileName(), true);
      long size = Files.size(aside);
      diskBytes.addAndGet(-size);
      diskSegments.decrementAndGet();
      counters.disk(diskBytes.get(), diskSegments.get());
      return Outcome.CONFLICT;
    }
    Read r = maybe.get();
    boolean ours = r.header.boot() == context.boot();
    Map<String, TypeObject> objects = r.objects;
    try {
      for (TypeObject o : objects.values()) {
        if (!put(o)) {
          context.alarm(counters, Alarm.Kind.KEY_CONFLICT, "s3://" + config.bucket() + "/" + o.key + " exists with "
              + "other content; segment " + segment.getFileName() + " is kept on disk", true);
          return Outcome.CONFLICT;
        }
      }
    } finally {
      for (TypeObject o : objects.values()) {
        Files.deleteIfExists(o.tmp);
      }
    }
    if (r.corruptRegions > 0) {
      counters.corruptRegions(r.corruptRegions);
    }
    if (ours) {
      long confirmed = context.nowMicros();
      recordLatencies(segment, confirmed);
      counters.delivered(r.records);
    } else {
      counters.recovered(r.records);
      counters.recoveredDelivered(r.records);
    }
    delete(segment);
    return Outcome.DONE;
  }

  /** Writes one object if absent; true when it is there with our content. */
  private boolean put(TypeObject o) throws IOException {
    PutObjectRequest request = PutObjectRequest.builder()
        .bucket(config.bucket())
        .key(o.key)
        .ifNoneMatch("*")
        .contentType("application/octet-stream")
        .contentLength(Files.size(o.tmp))
        .metadata(Map.of(META_SHA256, o.sha256, META_RECORDS, Long.toString(o.records)))
        .build();
    try {
      config.s3().putObject(request, RequestBody.fromFile(o.tmp));
      return true;
    } catch (S3Exception e) {
      if (e.statusCode() != 412) {
        throw e;
      }
      HeadObjectResponse head = config.s3().headObject(b -> b.bucket(config.bucket()).key(o.key));
      return o.sha256.equals(head.metadata().get(META_SHA256));
    }
  }

  private void recordLatencies(Path segment, long confirmedMicros) throws IOException {
    try (FileChannel in = FileChannel.open(segment, StandardOpenOption.READ)) {
      long size = in.size();
      MappedByteBuffer map = in.map(FileChannel.MapMode.READ_ONLY, 0, size);
      UnsafeBuffer buffer = new UnsafeBuffer(map);
      int start = SegmentHeader.decode(buffer, (int) size).map(SegmentHeader.Read::length).orElse((int) size);
      LogRecords.forEach(buffer, start, (int) size - start,
          rec -> counters.latency(confirmedMicros - rec.timestampMicros()));
    }
  }

  private void delete(Path segment) {
    try {
      long size = Files.size(segment);
      Files.deleteIfExists(segment);
      diskBytes.addAndGet(-size);
      diskSegments.decrementAndGet();
      counters.disk(diskBytes.get(), diskSegments.get());
    } catch (IOException e) {
      context.failure(config.tier(), e);
    }
  }

  /** One type's object being built from a segment. */
  private static final class TypeObject {
    final String key;
    final Path tmp;
    final OutputStream out;
    final MessageDigest digest;
    long records;
    String sha256 = "";

    TypeObject(String key, Path tmp, OutputStream out, MessageDigest digest) {
      this.key = key;
      this.tmp = tmp;
      this.out = out;
      this.digest = digest;
    }
  }

  /** A segment read back: header, counts and (when compressing) one compressed temporary file per type. */
  private static final class Read {
    final SegmentHeader header;
    final Map<String, TypeObject> objects = new LinkedHashMap<>();
    long records;
    long corruptRegions;

    Read(SegmentHeader header) {
      this.header = header;
    }
  }

  /**
   * Reads a segment back, checking every frame, and writes each type's frames compressed to a temporary file beside
   * it; with {@code headerOnly}, only the header.
   */
  private Optional<Read> read(Path segment, boolean headerOnly) throws IOException {
    try (FileChannel in = FileChannel.open(segment, StandardOpenOption.READ)) {
      long size = in.size();
      if (size > Integer.MAX_VALUE) {
        throw new IOException("segment " + segment + " is " + size + " bytes, more than a segment can be");
      }
      MappedByteBuffer map = in.map(FileChannel.MapMode.READ_ONLY, 0, size);
      UnsafeBuffer buffer = new UnsafeBuffer(map);
      Optional<SegmentHeader.Read> header = SegmentHeader.decode(buffer, (int) size);
      if (header.isEmpty()) {
        return Optional.empty();
      }
      Read read = new Read(header.get().header());
      if (headerOnly) {
        return Optional.of(read);
      }
      int start = header.get().length();
      IOException[] failed = {null};
      LogRecords.ReadResult result = LogRecords.forEach(buffer, start, (int) size - start, rec -> {
        if (failed[0] == null) {
          try {
            append(segment, read, rec);
          } catch (IOException e) {
            failed[0] = e;
          }
        }
      });
      for (TypeObject o : read.objects.values()) {
        o.out.close();
        o.sha256 = HexFormat.of().formatHex(o.digest.digest());
      }
      if (failed[0] != null) {
        for (TypeObject o : read.objects.values()) {
          Files.deleteIfExists(o.tmp);
        }
        throw failed[0];
      }
      read.records = result.records();
      read.corruptRegions = result.corruptRegions();
      return Optional.of(read);
    }
  }

  /** Reads a segment back only to count its valid records. */
  private Optional<Read> count(Path segment) throws IOException {
    try (FileChannel in = FileChannel.open(segment, StandardOpenOption.READ)) {
      long size = in.size();
      UnsafeBuffer buffer = new UnsafeBuffer(in.map(FileChannel.MapMode.READ_ONLY, 0, size));
      Optional<SegmentHeader.Read> header = SegmentHeader.decode(buffer, (int) size);
      if (header.isEmpty()) {
        return Optional.empty();
      }
      Read read = new Read(header.get().header());
      int start = header.get().length();
      LogRecords.ReadResult result = LogRecords.forEach(buffer, start, (int) size - start, rec -> { });
      read.records = result.records();
      read.corruptRegions = result.corruptRegions();
      return Optional.of(read);
    }
  }

  private void append(Path segment, Read read, LogRecord rec) throws IOException {
    String type = rec.type();
    TypeObject o = read.objects.get(type);
    if (o == null) {
      SegmentHeader h = read.header;
      String key = ObjectKeys.key(config.prefix(), type, h.openedAt(), h.region(), h.host(), h.boot(), h.segment(),
          config.compression());
      Path tmp = segment.resolveSibling(segment.getFileName() + "." + read.objects.size() + JournalWorker.TMP);
      OutputStream file = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
      OutputStream out = config.compression() == Compression.ZSTD
          ? new ZstdOutputStream(file, config.compressionLevel())
          : new LeveledGzip(file, config.compressionLevel());
      o = new TypeObject(key, tmp, out, sha256());
      read.objects.put(type, o);
    }
    int length = rec.frameLength();
    if (frame.length < length) {
      frame = new byte[Math.max(length, frame.length * 2)];
    }
    rec.buffer().getBytes(rec.offset(), frame, 0, length);
    o.out.write(frame, 0, length);
    o.digest.update(frame, 0, length);
    o.records++;
    read.records++;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** The oldest segment waiting, by the time it was opened; empty when none. */
  @Nullable Instant oldestPending() {
    return oldestPending;
  }

  int pending() {
    return queue.size();
  }

  void close(long deadlineNanos) {
    Thread t = thread;
    if (t == null) {
      return;
    }
    // Upload what was sealed until the deadline, then stop; the rest stays on disk for the next run.
    while (outstanding.get() > 0 && System.nanoTime() - deadlineNanos < 0 && t.isAlive()) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    stopping = true;
    t.interrupt();
    JournalWorker.joinUntil(t, System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
  }

  /** gzip at a chosen level. */
  private static final class LeveledGzip extends GZIPOutputStream {
    LeveledGzip(OutputStream out, int level) throws IOException {
      super(out, 1 << 16);
      def.setLevel(level);
    }
  }
}
