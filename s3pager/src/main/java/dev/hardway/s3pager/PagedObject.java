package dev.hardway.s3pager;

import dev.hardway.s3pager.internal.Backend;
import dev.hardway.s3pager.internal.Mapping;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.jspecify.annotations.Nullable;

/**
 * One S3 object mapped into read-only off-heap memory. Two ways to read it:
 * <ul>
 *   <li><b>Directly</b>: {@link #segment()} or {@link #directBuffer()}; a touch of a missing page waits (in the
 *       kernel) until the handler process has fetched its chunk. Safepoints wait for such a reader, so a GC pause can
 *       last as long as one fetch; readahead keeps sequential readers off that slow path.
 *   <li><b>Explicitly</b>: {@link #read(long, byte[], int, int) read}, {@link #prefetch prefetch} and
 *       {@link #awaitResident awaitResident} wait parked, never in a page fault, so they never hold up a safepoint,
 *       and they are all that works in {@link PagingMode#EXPLICIT_ONLY} mode.
 * </ul>
 *
 * <p>Failures: when the object cannot be fetched (404, 403, a 412 because it changed since it was opened, retries
 * exhausted) or the handler process dies, the explicit path throws {@link S3PagerException} and direct readers of
 * pages that never arrived get {@link InternalError} ("a fault occurred in an unsafe memory access operation"), never
 * zeros and never an endless wait. Pages that did arrive stay readable.
 *
 * <p>Thread-safe. {@link #close()} is idempotent; after it, {@link #segment()} views throw
 * {@link IllegalStateException}, and a {@link DirectBuffer} from {@link #directBuffer()} must no longer be used (Agrona
 * buffers cannot be revoked).
 */
public final class PagedObject implements AutoCloseable {
  private final String bucket;
  private final String key;
  private final @Nullable String eTag;
  private final long size;
  private final long chunkSize;
  private final long readWindow;
  private final boolean budgeted;
  /** The last chunk the explicit path's fast path read. */
  private volatile int lastAccessed = -1;
  private final @Nullable Mapping mapping;
  private final @Nullable Backend backend;
  private final PagingMode mode;
  private final MemorySegment view;
  private volatile boolean closed;

  PagedObject(String bucket, String key, @Nullable String eTag, long size, long chunkSize, int readWindowChunks,
      boolean budgeted, @Nullable Mapping mapping, @Nullable Backend backend, PagingMode mode) {
    this.budgeted = budgeted;
    this.bucket = bucket;
    this.key = key;
    this.eTag = eTag;
    this.size = size;
    this.chunkSize = chunkSize;
    this.readWindow = Math.max(1, readWindowChunks) * chunkSize;
    this.mapping = mapping;
    this.backend = backend;
    this.mode = mode;
    this.view = mapping == null ? MemorySegment.ofArray(new byte[0]).asReadOnly()
        : mapping.segment().asSlice(0, size).asReadOnly();
  }

  /**
   * The object's size.
   *
   * @return bytes
   */
  public long size() {
    return size;
  }

  /**
   * The bucket.
   *
   * @return the bucket name
   */
  public String bucket() {
    return bucket;
  }

  /**
   * The key.
   *
   * @return the key
   */
  public String key() {
    return key;
  }

  /**
   * The ETag every GET is pinned to.
   *
   * @return the ETag, if S3 gave one
   */
  public @Nullable String eTag() {
    return eTag;
  }

  /**
   * How pages arrive.
   *
   * @return the mode
   */
  public PagingMode mode() {
    return mode;
  }

  /**
   * The handler process serving this object's faults.
   *
   * @return its pid (the pager's handler), or -1 when there is none (explicit-only mode, empty object)
   */
  public long handlerPid() {
    Backend b = backend;
    return b == null ? -1 : b.handlerPid();
  }

  /**
   * The whole object as a read-only segment; pages are fetched on first touch.
   *
   * @return the segment, {@link #size()} bytes
   * @throws S3PagerException in {@link PagingMode#EXPLICIT_ONLY} mode, where a touch of a missing page would read
   *     zeros: use {@link #read(long, MemorySegment)} there
   */
  public MemorySegment segment() {
    requireDirect("segment()");
    return view;
  }

  /**
   * The whole object as an Agrona buffer over the same memory (no copy). Do not write to it: the pages are mapped
   * read-only and a write crashes the JVM. Needs {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED}
   * (Agrona's requirement).
   *
   * @return the buffer
   * @throws S3PagerException in explicit-only mode, or when the object is larger than 2 GiB (Agrona's limit)
   */
  public DirectBuffer directBuffer() {
    requireDirect("directBuffer()");
    if (size > Integer.MAX_VALUE) {
      throw new S3PagerException("directBuffer() covers at most " + Integer.MAX_VALUE + " bytes (an Agrona limit); s3://"
          + bucket + "/" + key + " has " + size + ": use segment()", false);
    }
    Mapping m = mapping;
    return m == null ? new UnsafeBuffer(new byte[0]) : new UnsafeBuffer(m.base(), (int) size);
  }

  /**
   * The whole object as a Chronicle Bytes store over the same memory (no copy), for users of that ecosystem. Needs
   * {@code net.openhft:chronicle-bytes} on the class path (an optional dependency of this module: add it yourself).
   * Do not write to it: the pages are mapped read-only and a write crashes the JVM. It must no longer be used once
   * this object is closed.
   *
   * @return the store, {@link #size()} bytes
   * @throws S3PagerException in explicit-only mode, or when Chronicle Bytes is not on the class path
   */
  // Not "requires transitive": modules that use the pager without Chronicle must still compile.
  @SuppressWarnings("exports")
  public net.openhft.chronicle.bytes.BytesStore<?, ?> chronicleBytes() {
    requireDirect("chronicleBytes()");
    Mapping m = mapping;
    try {
      return ChronicleView.wrap(m == null ? 0 : m.base(), size);
    } catch (NoClassDefFoundError e) {
      throw new S3PagerException("chronicleBytes() needs net.openhft:chronicle-bytes on the class path (an optional "
          + "dependency of hardway-s3pager): " + e.getMessage(), false, e);
    }
  }

  private void requireDirect(String what) {
    ensureOpen();
    if (mode == PagingMode.EXPLICIT_ONLY) {
      throw new S3PagerException(what + " is not available for s3://" + bucket + "/" + key + ": userfaultfd is not"
          + " permitted here (mode EXPLICIT_ONLY), so untouched pages would read as zeros; use read(...) or see the"
          + " s3pager README on permissions", false);
    }
  }

  /**
   * Starts fetching a range without waiting.
   *
   * @param offset the first byte
   * @param length bytes
   * @throws IndexOutOfBoundsException when the range is not inside the object
   */
  public void prefetch(long offset, long length) {
    Objects.checkFromIndexSize(offset, length, size);
    ensureOpen();
    Backend b = backend;
    if (length > 0 && b != null) {
      b.prefetch(offset, offset + length - 1);
    }
  }

  /**
   * Waits, parked, until a range is resident (it may be evicted again later unless read through
   * {@link #read(long, MemorySegment)}).
   *
   * @param offset the first byte
   * @param length bytes
   * @param timeout how long to wait
   * @return true when resident, false on timeout
   * @throws S3PagerException when the range cannot be fetched or the object is closed
   * @throws IndexOutOfBoundsException when the range is not inside the object
   */
  public boolean awaitResident(long offset, long length, Duration timeout) {
    Objects.checkFromIndexSize(offset, length, size);
    ensureOpen();
    Backend b = backend;
    if (length == 0 || b == null) {
      return true;
    }
    try {
      waitFor(b.await(offset, offset + length - 1), timeout);
      return true;
    } catch (TimeoutException e) {
      return false;
    }
  }

  /**
   * Copies bytes of the object into a segment, waiting parked until they are resident; safe to call from any thread
   * at any time, and the only read that works in explicit-only mode.
   *
   * @param offset where in the object
   * @param dst where to; its whole size is filled
   * @throws S3PagerException when the bytes cannot be fetched or the object is closed
   * @throws IndexOutOfBoundsException when the range is not inside the object
   */
  public void read(long offset, MemorySegment dst) {
    long length = dst.byteSize();
    Objects.checkFromIndexSize(offset, length, size);
    ensureOpen();
    Mapping m = mapping;
    Backend b = backend;
    if (length == 0 || m == null || b == null) {
      return;
    }
    long end = offset + length;
    // Copy chunk by chunk, each pinned against eviction while it is copied. At a chunk that is not resident, ask for
    // a window of chunks ahead at once, so that they arrive in parallel: a long read stays within the memory budget
    // plus that window.
    long asked = offset;
    long pos = offset;
    while (pos < end) {
      int chunk = (int) (pos / chunkSize);
      long chunkEnd = Math.min(end, (chunk + 1) * chunkSize);
      m.pin(chunk);
      try {
        // Pinned, present pages cannot go away: copy them at once. The engine hears of it once per chunk: of a
        // sequential step always (its readahead), of a jump only under a memory budget (its eviction order).
        if (m.resident(pos, chunkEnd - pos)) {
          int last = lastAccessed;
          if (last != chunk) {
            lastAccessed = chunk;
            if (budgeted || chunk == last + 1) {
              b.accessed(chunk);
            }
          }
        } else {
          if (asked < end && asked - pos < readWindow) {
            long more = Math.min(end, pos + readWindow);
            b.prefetch(Math.max(asked, pos), more - 1);
            asked = more;
          }
          try {
            waitFor(b.await(pos, chunkEnd - 1), Duration.ofDays(1));
          } catch (TimeoutException e) {
            throw new S3PagerException("s3://" + bucket + "/" + key + ": bytes " + pos + "-" + (chunkEnd - 1)
                + " did not arrive", true, e);
          }
        }
        MemorySegment.copy(m.segment(), pos, dst, pos - offset, chunkEnd - pos);
      } catch (InternalError e) {
        throw failed("bytes " + pos + "-" + (chunkEnd - 1) + " are poisoned", e);
      } finally {
        m.unpin(chunk);
      }
      pos = chunkEnd;
    }
  }

  /**
   * Copies bytes of the object into an array; see {@link #read(long, MemorySegment)}.
   *
   * @param offset where in the object
   * @param dst the array
   * @param dstOffset where in the array
   * @param length how many bytes
   */
  public void read(long offset, byte[] dst, int dstOffset, int length) {
    Objects.checkFromIndexSize(dstOffset, length, dst.length);
    read(offset, MemorySegment.ofArray(dst).asSlice(dstOffset, length));
  }

  /**
   * Copies bytes of the object into a buffer, from its position to its limit, and advances the position; see
   * {@link #read(long, MemorySegment)}.
   *
   * @param offset where in the object
   * @param dst the buffer (heap or direct)
   */
  public void read(long offset, ByteBuffer dst) {
    int n = dst.remaining();
    read(offset, MemorySegment.ofBuffer(dst).asSlice(0, n));
    dst.position(dst.position() + n);
  }

  private void waitFor(CompletableFuture<Void> f, Duration timeout) throws TimeoutException {
    try {
      f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof S3PagerException s) {
        throw new S3PagerException(s.getMessage(), s.retryable(), s);
      }
      throw new S3PagerException("s3://" + bucket + "/" + key + ": " + cause, true, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new S3PagerException("interrupted while waiting for s3://" + bucket + "/" + key, true, e);
    }
  }

  private S3PagerException failed(String what, Throwable cause) {
    Backend b = backend;
    String why = b == null ? null : b.failure();
    return new S3PagerException("s3://" + bucket + "/" + key + ": " + what + (why == null ? "" : ": " + why), true,
        cause);
  }

  /**
   * A snapshot of the counters.
   *
   * @return the stats
   * @throws S3PagerException when the handler is gone
   */
  public PagerStats stats() {
    Backend b = backend;
    if (b == null) {
      return PagerStats.empty(mode);
    }
    try {
      return PagerStats.of(mode, b.stats().get(30, TimeUnit.SECONDS));
    } catch (ExecutionException e) {
      throw failed("no stats", e.getCause());
    } catch (TimeoutException e) {
      throw failed("no stats within 30 s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failed("interrupted", e);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new S3PagerException("s3://" + bucket + "/" + key + " is closed", false);
    }
  }

  /**
   * Stops fetching, poisons what never arrived (so no reader waits on it), then unregisters and unmaps the memory.
   * Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    Backend b = backend;
    Mapping m = mapping;
    if (m != null) {
      m.poisonMissing();
    }
    if (b != null) {
      b.close();
    }
    if (m != null) {
      m.close();
    }
  }

  @Override
  public String toString() {
    return "PagedObject[s3://" + bucket + "/" + key + ", " + size + " bytes, " + mode + "]";
  }
}
