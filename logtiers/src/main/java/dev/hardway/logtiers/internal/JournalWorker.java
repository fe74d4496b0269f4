package dev.hardway.logtiers.internal;

import dev.hardway.logtiers.Alarm;
import dev.hardway.logtiers.DropReason;
import dev.hardway.logtiers.FsyncPolicy;
import dev.hardway.logtiers.LogTiersException;
import dev.hardway.logtiers.S3Tier;
import dev.hardway.logtiers.Tier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import org.agrona.concurrent.ControlledMessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.jspecify.annotations.Nullable;

/**
 * The mid and high tiers: a writer thread drains the ring into an append-only segment file (group commit per the
 * fsync policy), rolls it by size, age and UTC hour, and hands sealed segments to a {@link SegmentUploader}.
 *
 * <p>Files in the directory: {@code <boot>-<n>.open} (being written), {@code <boot>-<n>.sealed} (closed, waiting for
 * upload), {@code *.tmp} (an upload's compressed objects), {@code *.corrupt} (a segment whose header is unreadable;
 * kept for a person), {@code .lock}. At start-up every {@code .open} file is sealed as it is — its frames are checked
 * one by one at upload, so a torn tail costs only the torn frame — and everything sealed is queued for upload.
 */
public final class JournalWorker implements TierWorker {
  static final String OPEN = ".open";
  static final String SEALED = ".sealed";
  static final String TMP = ".tmp";
  static final String CORRUPT = ".corrupt";

  private final S3Tier config;
  private final TierChannel channel;
  private final TierContext context;
  private final TierCounters counters;
  private final RingBuffer ring;
  private final SegmentUploader uploader;
  private final AtomicLong diskBytes = new AtomicLong();
  private final AtomicLong diskSegments = new AtomicLong();

  private final ByteBuffer batch;
  private final int batchLimit;
  private final UnsafeBuffer batchBuffer;
  private final ByteBuffer crcView;
  private final CRC32C crc = new CRC32C();
  private int batchLength;
  private long batchRecords;
  private long batchReadPosition;

  private @Nullable FileChannel segment;
  private @Nullable Path segmentPath;
  private long segmentNumber;
  private long segmentLength;
  private long segmentSynced;
  private long segmentRecords;
  private long segmentOpenedNanos;
  private long segmentHour;
  private long lastSyncNanos = System.nanoTime();
  private long writtenPosition;
  private long writeFailures;

  private final ReentrantLock durableLock = new ReentrantLock();
  private final Condition durableChanged = durableLock.newCondition();
  private final AtomicInteger durableWaiters = new AtomicInteger();
  private volatile long durablePosition;

  private volatile boolean closing;
  private volatile long closeDeadline;
  private @Nullable Thread writer;
  private @Nullable FileChannel lockFile;
  private @Nullable FileLock lock;
  private boolean started;
  private boolean closed;

  /**
   * A worker for one S3 tier.
   *
   * @param config the tier
   * @param channel its ring and counters
   * @param context the owner's context
   */
  public JournalWorker(S3Tier config, TierChannel channel, TierContext context) {
    this.config = config;
    this.channel = channel;
    this.context = context;
    this.counters = channel.counters();
    this.ring = channel.ring();
    int capacity = Math.max(1 << 20, 2 * ring.maxMsgLength());
    this.batch = ByteBuffer.allocateDirect(capacity).order(ByteOrder.LITTLE_ENDIAN);
    this.batchBuffer = new UnsafeBuffer(batch);
    this.crcView = batch.duplicate();
    // A batch must fit the disk quota with room to spare, or a full journal could never take it.
    this.batchLimit = (int) Math.min(capacity, Math.max(ring.maxMsgLength(), config.diskQuotaBytes() / 4));
    this.uploader = new SegmentUploader(config, counters, context, diskBytes, diskSegments);
  }

  @Override
  public synchronized void start() {
    if (started) {
      return;
    }
    started = true;
    Path dir = config.directory();
    try {
      Files.createDirectories(dir);
      lockFile = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      try {
        lock = lockFile.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        throw new LogTiersException(config.tier() + " tier directory " + dir + " is in use by another LogTiers "
            + "(its .lock is held); give each instance a directory of its own", false, null);
      }
      recover(dir);
    } catch (IOException e) {
      throw new LogTiersException("cannot open the " + config.tier() + " tier directory " + dir + ": " + e, true, e);
    }
    uploader.start();
    Thread t = context.threads().newThread(this::writeLoop);
    t.setName("hardway-logtiers-" + config.tier().name().toLowerCase(java.util.Locale.ROOT) + "-writer");
    writer = t;
    t.start();
  }

  /** Seals what an earlier run left open, queues every sealed segment, removes half-written upload files. */
  private void recover(Path dir) throws IOException {
    List<Path> open = new ArrayList<>();
    List<Path> sealed = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (name.endsWith(TMP)) {
          Files.deleteIfExists(f);
        } else if (name.endsWith(OPEN)) {
          open.add(f);
        } else if (name.endsWith(SEALED)) {
          sealed.add(f);
        }
      }
    }
    for (Path f : open) {
      String name = f.getFileName().toString();
      Path target = f.resolveSibling(name.substring(0, name.length() - OPEN.length()) + SEALED);
      Files.move(f, target, StandardCopyOption.ATOMIC_MOVE);
      sealed.add(target);
      noteSegmentNumber(name);
    }
    sealed.sort(null);
    for (Path f : sealed) {
      noteSegmentNumber(f.getFileName().toString());
      long size = Files.size(f);
      diskBytes.addAndGet(size);
      diskSegments.incrementAndGet();
      uploader.enqueue(f);
    }
    syncDirectory(dir);
    counters.disk(diskBytes.get(), diskSegments.get());
  }

  /** A fixed boot reused across runs (tests) must not reuse a segment number. */
  private void noteSegmentNumber(String name) {
    String boot = String.format(java.util.Locale.ROOT, "%016x-", context.boot());
    if (name.startsWith(boot)) {
      try {
        long n = Long.parseLong(name.substring(boot.length(), boot.length() + 12));
        segmentNumber = Math.max(segmentNumber, n + 1);
      } catch (NumberFormatException | IndexOutOfBoundsException ignored) {
        // Not one of ours.
      }
    }
  }

  private final ControlledMessageHandler intoBatch = this::copyFrame;

  private ControlledMessageHandler.Action copyFrame(int type, org.agrona.MutableDirectBuffer buffer, int index,
      int length) {
    if (batchLength + length > batchLimit && batchLength > 0) {
      return ControlledMessageHandler.Action.ABORT;
    }
    batchBuffer.putBytes(batchLength, buffer, index, length);
    crc.reset();
    crcView.limit(batchLength + length).position(batchLength + 8);
    crc.update(crcView);
    batchBuffer.putInt(batchLength + 4, (int) crc.getValue(), ByteOrder.LITTLE_ENDIAN);
    batchLength += length;
    batchRecords++;
    return ControlledMessageHandler.Action.CONTINUE;
  }

  private void writeLoop() {
    long idle = 0;
    while (true) {
      boolean stopping = closing;
      int read = ring.controlledRead(intoBatch);
      if (read > 0) {
        batchReadPosition = ring.consumerPosition();
      }
      boolean wrote = false;
      if (batchLength > 0) {
        wrote = writeBatch();
      }
      maybeSync(stopping);
      maybeRoll();
      if (batchLength == 0) {
        clearQuotaAlarm();
      }
      if (stopping) {
        boolean drained = batchLength == 0 && ring.consumerPosition() >= ring.producerPosition();
        if (drained || System.nanoTime() - closeDeadline > 0) {
          finish();
          return;
        }
      }
      if (read == 0 && !wrote) {
        idle = Math.min(idle + 1, 20);
        LockSupport.parkNanos(idle < 10 ? 50_000 : 1_000_000);
      } else {
        idle = 0;
      }
    }
  }

  /** Writes the batch; false when it had to wait (disk quota, disk error) and the batch is still pending. */
  private boolean writeBatch() {
    if (!makeRoom()) {
      return false;
    }
    try {
      FileChannel out = openSegment();
      batch.limit(batchLength).position(0);
      long at = segmentLength;
      while (batch.hasRemaining()) {
        at += out.write(batch, at);
      }
      segmentLength = at;
      segmentRecords += batchRecords;
      diskBytes.addAndGet(batchLength);
      counters.disk(diskBytes.get(), diskSegments.get());
      writtenPosition = batchReadPosition;
      batchLength = 0;
      batchRecords = 0;
      batch.clear();
      if (writeFailures > 0) {
        writeFailures = 0;
        context.alarm(counters, Alarm.Kind.DISK_ERROR, "journal writes work again in " + config.directory(), false);
      }
      return true;
    } catch (IOException e) {
      diskFailure("writing " + segmentPath, e);
      // Whatever part of the batch reached the file is cut off again, so that the retry writes it exactly once.
      truncateQuietly();
      return false;
    }
  }

  /** Room under the disk quota: the mid tier waits (appends back up and are refused), the high tier discards. */
  private boolean makeRoom() {
    long quota = config.diskQuotaBytes();
    if (diskBytes.get() + batchLength <= quota || diskBytes.get() == 0) {
      // Cleared with some hysteresis, so that a journal hovering at its quota does not flap the alarm.
      clearQuotaAlarm();
      return true;
    }
    if (config.tier() == Tier.MID) {
      context.alarm(counters, Alarm.Kind.DISK_QUOTA, "the mid tier's journal in " + config.directory() + " holds "
          + diskBytes.get() + " bytes, its quota is " + quota + "; appends are refused until uploads free space",
          true);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      return false;
    }
    context.alarm(counters, Alarm.Kind.DISK_QUOTA, "the high tier's spool in " + config.directory()
        + " reached its quota of " + quota + " bytes; discarding its oldest segments", true);
    while (diskBytes.get() + batchLength > quota) {
      if (!uploader.evictOldest()) {
        counters.dropped(DropReason.SPOOL_FULL, batchRecords);
        batchLength = 0;
        batchRecords = 0;
        batch.clear();
        writtenPosition = batchReadPosition;
        return false;
      }
    }
    return true;
  }

  private void clearQuotaAlarm() {
    if (diskBytes.get() + batchLength <= config.diskQuotaBytes() / 2) {
      context.alarm(counters, Alarm.Kind.DISK_QUOTA, "back under the disk quota in " + config.directory(), false);
    }
  }

  private FileChannel openSegment() throws IOException {
    FileChannel out = segment;
    if (out != null) {
      return out;
    }
    Instant now = context.clock().instant();
    long number = segmentNumber++;
    Path path = config.directory().resolve(SegmentHeader.fileName(context.boot(), number, OPEN));
    ByteBuffer header = new SegmentHeader(context.boot(), number, now, context.host(), context.region()).encode();
    out = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    int length = header.remaining();
    while (header.hasRemaining()) {
      out.write(header, length - header.remaining());
    }
    segment = out;
    segmentPath = path;
    segmentLength = length;
    segmentSynced = 0;
    segmentRecords = 0;
    segmentOpenedNanos = System.nanoTime();
    segmentHour = now.getEpochSecond() / 3600;
    diskBytes.addAndGet(length);
    diskSegments.incrementAndGet();
    counters.disk(diskBytes.get(), diskSegments.get());
    return out;
  }

  private void maybeSync(boolean stopping) {
    FileChannel out = segment;
    if (out == null || segmentSynced == segmentLength) {
      publishDurable(writtenPosition);
      return;
    }
    FsyncPolicy policy = config.fsync();
    Duration interval = policy.interval();
    boolean due = durableWaiters.get() > 0 || stopping
        || (interval != null && System.nanoTime() - lastSyncNanos >= interval.toNanos());
    if (due) {
      sync(out);
    }
  }

  private boolean sync(FileChannel out) {
    long position = writtenPosition;
    try {
      out.force(false);
      segmentSynced = segmentLength;
      lastSyncNanos = System.nanoTime();
      publishDurable(position);
      return true;
    } catch (IOException e) {
      diskFailure("syncing " + segmentPath, e);
      rewriteUnsynced(out);
      return false;
    }
  }

  /**
   * After a failed fsync the kernel may have marked the unwritten pages clean (Linux does), so a later fsync would
   * report success without writing them. The bytes since the last good sync are read back, cut off and written again
   * so that the next sync really writes them; frames that cannot be read back intact are caught by their CRC32C at
   * upload.
   */
  private void rewriteUnsynced(FileChannel out) {
    long from = Math.max(segmentSynced, 0);
    long length = segmentLength - from;
    if (length <= 0 || length > Integer.MAX_VALUE - 8) {
      return;
    }
    try {
      ByteBuffer back = ByteBuffer.allocate((int) length);
      while (back.hasRemaining()) {
        if (out.read(back, from + back.position()) < 0) {
          break;
        }
      }
      back.flip();
      out.truncate(from);
      while (back.hasRemaining()) {
        out.write(back, from + back.position());
      }
    } catch (IOException e) {
      diskFailure("rewriting unsynced bytes of " + segmentPath, e);
    }
  }

  private void publishDurable(long position) {
    if (position > durablePosition) {
      durablePosition = position;
      if (durableWaiters.get() > 0) {
        durableLock.lock();
        try {
          durableChanged.signalAll();
        } finally {
          durableLock.unlock();
        }
      }
    }
  }

  private void maybeRoll() {
    FileChannel out = segment;
    if (out == null) {
      return;
    }
    boolean full = segmentLength >= config.segmentBytes();
    boolean old = System.nanoTime() - segmentOpenedNanos >= config.segmentAge().toNanos();
    boolean newHour = context.clock().instant().getEpochSecond() / 3600 != segmentHour;
    if (full || old || newHour) {
      seal();
    }
  }

  /** Syncs, closes and renames the open segment, then queues it; on a disk error it stays open and is tried again. */
  private void seal() {
    FileChannel out = segment;
    Path path = segmentPath;
    if (out == null || path == null) {
      return;
    }
    if (segmentSynced != segmentLength && !sync(out)) {
      return;
    }
    try {
      out.close();
      String name = path.getFileName().toString();
      Path sealed = path.resolveSibling(name.substring(0, name.length() - OPEN.length()) + SEALED);
      Files.move(path, sealed, StandardCopyOption.ATOMIC_MOVE);
      syncDirectory(config.directory());
      segment = null;
      segmentPath = null;
      uploader.enqueue(sealed);
    } catch (IOException e) {
      diskFailure("sealing " + path, e);
      try {
        segment = FileChannel.open(path, StandardOpenOption.WRITE);
      } catch (IOException reopen) {
        segment = null;
        segmentPath = null;
      }
    }
  }

  private void truncateQuietly() {
    FileChannel out = segment;
    if (out != null) {
      try {
        out.truncate(segmentLength);
      } catch (IOException ignored) {
        // Reported by the write that failed; the retry truncates again.
      }
    }
  }

  private void diskFailure(String what, IOException e) {
    writeFailures++;
    counters.retried();
    context.failure(config.tier(), e);
    context.alarm(counters, Alarm.Kind.DISK_ERROR, what + " failed: " + e, true);
    long wait = context.backoffMillis(10, 1_000, (int) Math.min(writeFailures, 30));
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(wait));
  }

  private void finish() {
    FileChannel out = segment;
    if (out != null) {
      if (segmentLength > segmentSynced) {
        sync(out);
      }
      seal();
    }
    publishDurable(writtenPosition);
    // Whatever is left in the ring or the batch could not reach the disk before the deadline.
    long left = batchRecords;
    batchLength = 0;
    batchRecords = 0;
    int[] leftover = {0};
    while (ring.read((t, b, i, l) -> leftover[0]++) > 0) {
      // Drain and count.
    }
    counters.dropped(DropReason.CLOSED, left + leftover[0]);
  }

  @Override
  public boolean awaitDurable(long deadlineNanos) throws InterruptedException {
    long target = ring.producerPosition();
    if (durablePosition >= target) {
      return true;
    }
    durableWaiters.incrementAndGet();
    durableLock.lock();
    try {
      while (durablePosition < target) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        durableChanged.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(5)));
      }
      return true;
    } finally {
      durableLock.unlock();
      durableWaiters.decrementAndGet();
    }
  }

  @Override
  public void close(long deadlineNanos) {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    Thread w = writer;
    if (w != null) {
      closeDeadline = deadlineNanos;
      closing = true;
      joinUntil(w, deadlineNanos + TimeUnit.SECONDS.toNanos(1));
    }
    uploader.close(deadlineNanos);
    counters.disk(diskBytes.get(), diskSegments.get());
    try {
      if (lock != null) {
        lock.release();
      }
      if (lockFile != null) {
        lockFile.close();
      }
    } catch (IOException ignored) {
      // Closing the lock file releases the lock either way.
    }
  }

  static void joinUntil(Thread t, long deadlineNanos) {
    try {
      long millis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
      t.join(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void syncDirectory(Path dir) {
    // A rename or a new file is durable only once its directory is synced (Linux; elsewhere this may be refused).
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UncheckedIOException ignored) {
      // Not supported on every platform; the rename itself is atomic.
    }
  }

}
