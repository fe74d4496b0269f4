package dev.hardway.s3pager.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.jspecify.annotations.Nullable;

/**
 * The application's side of one paged object: an anonymous private mapping of the object's size rounded up to pages,
 * the userfaultfd it is registered with (none in explicit-only mode), and a pin count per chunk so that a chunk the
 * explicit read path is copying from is never evicted under it.
 */
@SuppressWarnings("restricted")
public final class Mapping implements AutoCloseable {
  private final long base;
  private final long length;
  private final long chunkSize;
  private final @Nullable Uffd uffd;
  private final Arena arena;
  private final MemorySegment segment;
  private final AtomicIntegerArray pins;
  private boolean closed;

  private Mapping(long base, long length, long chunkSize, @Nullable Uffd uffd, int chunks) {
    this.base = base;
    this.length = length;
    this.chunkSize = chunkSize;
    this.uffd = uffd;
    this.arena = Arena.ofShared();
    this.segment = MemorySegment.ofAddress(base).reinterpret(length, arena, null);
    this.pins = new AtomicIntegerArray(Math.max(1, chunks));
  }

  /**
   * Maps and registers.
   *
   * @param objectSize bytes in the object, at least 1
   * @param chunkSize the chunk size
   * @param uffd the pager's userfaultfd to register with ({@link Uffd#api} done), or null for explicit-only mode
   * @return the mapping
   * @throws IllegalStateException naming the call and errno when the kernel refuses
   */
  public static Mapping create(long objectSize, long chunkSize, @Nullable Uffd uffd) {
    long length = (objectSize + Linux.PAGE_SIZE - 1) & -Linux.PAGE_SIZE;
    // Explicit-only mode writes the pages itself; with a userfaultfd the handler installs them and the
    // application's view stays read-only.
    int prot = uffd == null ? Linux.PROT_READ | Linux.PROT_WRITE : Linux.PROT_READ;
    long base = Linux.mmapAnonymous(length, prot, Linux.MAP_PRIVATE | Linux.MAP_ANONYMOUS | Linux.MAP_NORESERVE);
    if (base == -1L) {
      throw new IllegalStateException("mmap of " + length + " bytes failed with " + Linux.errnoName(Linux.errno()));
    }
    if (uffd != null) {
      int err = uffd.registerMissing(base, length);
      if (err != 0) {
        Linux.munmap(base, length);
        throw new IllegalStateException("UFFDIO_REGISTER of " + length + " bytes failed with "
            + Linux.errnoName(err));
      }
    }
    int chunks = (int) ((objectSize + chunkSize - 1) / chunkSize);
    return new Mapping(base, length, chunkSize, uffd, chunks);
  }

  /**
   * The start address.
   *
   * @return the address
   */
  public long base() {
    return base;
  }

  /**
   * The mapped length, a page multiple.
   *
   * @return bytes
   */
  public long length() {
    return length;
  }

  /**
   * The whole mapping, valid until {@link #close()}.
   *
   * @return the segment
   */
  public MemorySegment segment() {
    return segment;
  }

  /**
   * The userfaultfd, if any.
   *
   * @return it, or null in explicit-only mode
   */
  public @Nullable Uffd uffd() {
    return uffd;
  }

  /**
   * Installs page-aligned bytes from this process: through the userfaultfd, or by a plain copy in explicit-only mode.
   *
   * @param offset page-aligned offset in the mapping
   * @param src the bytes, native memory
   * @param length a page multiple
   * @return 0, or the errno
   */
  public int install(long offset, MemorySegment src, long length) {
    Uffd u = uffd;
    if (u != null) {
      return u.copy(base + offset, src.address(), length);
    }
    MemorySegment.copy(src, 0, segment, offset, length);
    return 0;
  }

  private static final ThreadLocal<MemorySegment> VECTOR = new ThreadLocal<>();

  /**
   * Whether every page of a range is present ({@code mincore}): installed bytes of the object, never zeros, since
   * nothing else writes here. Pin the chunk first, or it may be evicted right after.
   *
   * @param offset the first byte
   * @param length bytes, at least 1
   * @return true when all present
   */
  public boolean resident(long offset, long length) {
    long first = offset & -Linux.PAGE_SIZE;
    long end = (offset + length + Linux.PAGE_SIZE - 1) & -Linux.PAGE_SIZE;
    long pages = (end - first) / Linux.PAGE_SIZE;
    MemorySegment vector = VECTOR.get();
    if (vector == null || vector.byteSize() < pages) {
      vector = Arena.ofAuto().allocate(Math.max(pages, 2048));
      VECTOR.set(vector);
    }
    if (Linux.mincore(base + first, end - first, vector) != 0) {
      return false;
    }
    for (long p = 0; p < pages; p++) {
      if ((vector.get(ValueLayout.JAVA_BYTE, p) & 1) == 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Pins a chunk against eviction; waits out an eviction in progress (a single {@code madvise}).
   *
   * @param chunk the chunk
   */
  public void pin(int chunk) {
    while (true) {
      int v = pins.get(chunk);
      if (v >= 0 && pins.compareAndSet(chunk, v, v + 1)) {
        return;
      }
      Thread.onSpinWait();
    }
  }

  /**
   * Releases a {@link #pin}.
   *
   * @param chunk the chunk
   */
  public void unpin(int chunk) {
    pins.decrementAndGet(chunk);
  }

  /**
   * Drops a chunk's pages with {@code MADV_DONTNEED} unless it is pinned; the next touch faults again.
   *
   * @param chunk the chunk
   * @return true when dropped, false when pinned (the engine keeps it resident)
   */
  public boolean tryEvict(int chunk) {
    if (!pins.compareAndSet(chunk, 0, -1)) {
      return false;
    }
    try {
      long start = chunk * chunkSize;
      long len = Math.min(chunkSize, length - start);
      return Linux.madvise(base + start, len, Linux.MADV_DONTNEED) == 0;
    } finally {
      pins.set(chunk, 0);
    }
  }

  /**
   * Poisons every missing page, so that nothing waits on a fault any more and nothing reads zeros. Does nothing once
   * closed: the address range may belong to another mapping by then.
   */
  public synchronized void poisonMissing() {
    Uffd u = uffd;
    if (u != null && !closed) {
      u.poisonMissingLocal(base, length);
    }
  }

  /**
   * Poisons what is missing, unregisters, then unmaps: in that order, because a thread still waiting on a fault when
   * the range is unregistered would read zeros. The userfaultfd is the pager's and stays open.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    Uffd u = uffd;
    if (u != null) {
      u.poisonMissingLocal(base, length);
      u.unregister(base, length);
    }
    // Closing the shared arena waits until no thread is inside an access to the segment, then nothing can reach it.
    arena.close();
    Linux.munmap(base, length);
  }
}
