package dev.hardway.s3pager.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * The chunk engine: which chunks are missing, being fetched, resident or evicted; single flight per chunk; readahead
 * with markers; retries; the memory budget. It runs in the handler process (faults come from the userfaultfd) or, when
 * userfaultfd is not permitted, in the application (only explicit requests come in).
 *
 * <p>Marker readahead: a chunk fetched ahead of the reader is installed without its first page, whose bytes are kept
 * here; the reader's touch of that page faults, the fault is served at once from the kept bytes and moves the
 * readahead window on, so a sequential scan keeps {@code window} GETs in flight without any polling.
 *
 * <p>Locking: one monitor guards every chunk's state; GETs and installs of fetched bytes happen outside it (a chunk
 * being fetched has one owner, its worker). Installs also hold the read side of a gate whose write side
 * {@link #close()} takes: after {@code close} returns nothing is installed any more, so the application may unmap the
 * range and reuse the address. Nothing here ever waits on the application.
 */
final class Engine implements AutoCloseable {
  static final byte MISSING = 0;
  static final byte FETCHING = 1;
  static final byte MARKED = 2;
  static final byte RESIDENT = 3;
  static final byte EVICTING = 4;
  static final byte FAILED = 5;

  private static final int COPY_BUFFER = 64 << 10;
  /** The first piece of every GET is this small, so that a reader waiting on it waits for little more than the GET. */
  static final long FIRST_PIECE = 64 << 10;

  private final PagerConfig config;
  private final Host host;
  private final Fetcher fetcher;
  private final int chunks;
  private final long page = Linux.PAGE_SIZE;
  private final byte[] state;
  private final boolean[] demanded;
  private final @Nullable MemorySegment[] markers;
  private final long[] lastUse;
  private final @Nullable String[] errors;
  private final boolean[] errorRetryable;
  private final List<Await> awaits = new ArrayList<>();
  private final ExecutorService workers;
  private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
  private final long started = System.nanoTime();

  private int lastChunk = -2;
  private int window;
  private long useClock;
  private long residentBytes;
  private boolean closed;
  private @Nullable String objectFailure;

  // Counters, guarded by this.
  private long faults;
  private long stalls;
  private long markerHits;
  private long fetches;
  private long bytesFetched;
  private long retries;
  private long evictions;
  private long maxResidentBytes;
  private long firstByteNanos = -1;

  private record Await(long id, int first, int last) {}

  /**
   * An engine for one object; chunk 0 starts fetching at once (from where {@code open} left it).
   *
   * @param config the object
   * @param host where bytes go
   * @param s3 the client to fetch with (shared, not closed here)
   */
  Engine(PagerConfig config, Host host, S3Client s3) {
    this.config = config;
    this.host = host;
    this.chunks = config.chunks();
    this.state = new byte[chunks];
    this.demanded = new boolean[chunks];
    this.markers = new MemorySegment[chunks];
    this.lastUse = new long[chunks];
    this.errors = new String[chunks];
    this.errorRetryable = new boolean[chunks];
    this.window = config.readaheadInitial();
    this.fetcher = new Fetcher(config, s3);
    this.workers = Executors.newFixedThreadPool(config.fetchThreads(),
        Thread.ofPlatform().daemon().name("s3pager-fetch-", 0).factory());
    if (chunks > 0) {
      start();
    }
  }

  /** Chunk 0 is the likeliest first touch: it is resident already (a small object) or fetched on at once. */
  private synchronized void start() {
    long first = Math.min(config.firstInstalled(), chunkLength(0));
    demanded[0] = true;
    if (first >= chunkLength(0)) {
      state[0] = RESIDENT;
      residentBytes += chunkPages(0);
      maxResidentBytes = residentBytes;
      bytesFetched += chunkLength(0);
    } else {
      bytesFetched += first;
      state[0] = FETCHING;
      fetches++;
      workers.execute(() -> fetch(0, first));
    }
    access(0);
  }

  private long chunkStart(int c) {
    return c * config.chunkSize();
  }

  private long chunkLength(int c) {
    return Math.min(config.chunkSize(), config.objectSize() - chunkStart(c));
  }

  /** The chunk's length rounded up to pages: what is mapped and installed. */
  private long chunkPages(int c) {
    return (chunkLength(c) + page - 1) & -page;
  }

  /** A missing-page fault at this offset of the object (from the userfaultfd). */
  synchronized void fault(long offset) {
    int c = (int) (offset / config.chunkSize());
    if (c < 0 || c >= chunks) {
      return;
    }
    faults++;
    long pageStart = offset & -page;
    switch (state[c]) {
      case MISSING -> {
        stalls++;
        demanded[c] = true;
        startFetch(c);
        access(c);
      }
      case FETCHING -> {
        stalls++;
        demanded[c] = true;
        installMarker(c);
        access(c);
      }
      case MARKED -> {
        markerHits++;
        demanded[c] = true;
        installMarker(c);
        state[c] = RESIDENT;
        access(c);
      }
      case EVICTING -> demanded[c] = true;
      case FAILED -> host.poison(pageStart, page);
      default -> host.wake(pageStart, page);
    }
  }

  /** A reader used a resident chunk (the explicit path's fast path): readahead as on a fault. */
  synchronized void accessed(int c) {
    if (c >= 0 && c < chunks && c != lastChunk) {
      access(c);
    }
  }

  /** Starts fetches of a range of chunks that are missing, without waiting. */
  synchronized void prefetch(long first, long last) {
    for (int c = chunkOf(first); c <= chunkOf(last); c++) {
      if (state[c] == MISSING) {
        demanded[c] = true;
        startFetch(c);
      }
    }
  }

  /** Answers through the host once every chunk of the range is fully resident (or one failed). */
  synchronized void await(long id, long first, long last) {
    int from = chunkOf(first);
    int to = chunkOf(last);
    for (int c = from; c <= to; c++) {
      demanded[c] = true;
      switch (state[c]) {
        case MISSING -> startFetch(c);
        case MARKED -> {
          installMarker(c);
          state[c] = RESIDENT;
        }
        case FETCHING -> installMarker(c);
        default -> { }
      }
      access(c);
    }
    Await a = new Await(id, from, to);
    if (!settle(a)) {
      awaits.add(a);
    }
  }

  private int chunkOf(long offset) {
    return (int) Math.min(chunks - 1, Math.max(0, offset / config.chunkSize()));
  }

  /** Answers the await if it can be answered now. */
  private boolean settle(Await a) {
    boolean allResident = true;
    for (int c = a.first; c <= a.last; c++) {
      if (state[c] == FAILED) {
        String error = errors[c];
        host.awaited(a.id, error == null ? "chunk " + c + " failed" : error, errorRetryable[c]);
        return true;
      }
      if (state[c] != RESIDENT) {
        allResident = false;
      }
    }
    if (closed) {
      host.awaited(a.id, "the object is closed", false);
      return true;
    }
    if (allResident) {
      host.awaited(a.id, null, false);
      return true;
    }
    return false;
  }

  private void settleAwaits() {
    for (Iterator<Await> it = awaits.iterator(); it.hasNext(); ) {
      if (settle(it.next())) {
        it.remove();
      }
    }
  }

  /** Sequential detection and readahead after an access to chunk c. */
  private void access(int c) {
    lastUse[c] = ++useClock;
    if (c == lastChunk + 1) {
      window = Math.min(config.readaheadMax(), Math.max(1, window * 2));
    } else if (c != lastChunk) {
      window = config.readaheadInitial();
    }
    lastChunk = c;
    for (int i = 1; i <= window && c + i < chunks; i++) {
      if (state[c + i] == MISSING) {
        startFetch(c + i);
      }
    }
  }

  private void startFetch(int c) {
    if (closed) {
      return;
    }
    state[c] = FETCHING;
    fetches++;
    workers.execute(() -> fetch(c, 0));
  }

  /** Installs the kept first page of a chunk, if one is kept. */
  private void installMarker(int c) {
    MemorySegment marker = markers[c];
    if (marker != null) {
      markers[c] = null;
      host.install(chunkStart(c), marker, page);
    }
  }

  // ---- the worker side -------------------------------------------------------------------------------------------

  private static final ThreadLocal<MemorySegment> STAGING = new ThreadLocal<>();
  private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[COPY_BUFFER]);

  private MemorySegment staging() {
    MemorySegment s = STAGING.get();
    long want = config.pieceSize() + page;
    if (s == null || s.byteSize() < want) {
      s = Arena.ofAuto().allocate(want, page);
      STAGING.set(s);
    }
    return s;
  }

  private void fetch(int c, long from) {
    long start = chunkStart(c);
    long length = chunkLength(c);
    long[] installed = {from};
    int attempt = 0;
    while (true) {
      synchronized (this) {
        if (closed) {
          return;
        }
      }
      ResponseInputStream<GetObjectResponse> body = null;
      try {
        body = fetcher.open(start + installed[0], start + length - 1);
        stream(c, body, installed, length);
        body.close();
        if (installed[0] >= length) {
          completed(c);
          return;
        }
        throw new IOException("body of chunk " + c + " ended " + (length - installed[0]) + " bytes early");
      } catch (Abandoned e) {
        // Closing would read the rest of the body to keep the connection: drop the connection instead.
        body.abort();
        return;
      } catch (Fetcher.PermanentFetchException e) {
        failObject(e.getMessage(), false);
        return;
      } catch (IOException | RuntimeException e) {
        if (body != null) {
          body.abort();
        }
        attempt++;
        synchronized (this) {
          retries++;
        }
        if (attempt >= config.maxAttempts()) {
          failChunk(c, "s3://" + config.bucket() + "/" + config.key() + " bytes " + start + "-" + (start + length - 1)
              + ": " + attempt + " attempts failed, the last with " + e, true);
          return;
        }
        long backoff = Math.min(config.backoffMaxMillis(), config.backoffBaseMillis() << Math.min(20, attempt - 1));
        long sleep = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
        try {
          TimeUnit.MILLISECONDS.sleep(sleep);
        } catch (InterruptedException interrupted) {
          return;
        }
      }
    }
  }

  /**
   * Reads the body and installs it a piece at a time, whole pages only (a partial page waits for its end, or for the
   * end of the object, where it is padded with zeros as the mapping is). {@code installed[0]} is where the body
   * starts in the chunk, and is moved on as pieces are installed, so that a retry resumes after them. The first piece
   * is small ({@link #FIRST_PIECE}).
   */
  private void stream(int c, ResponseInputStream<GetObjectResponse> body, long[] installed, long length)
      throws IOException {
    MemorySegment staging = staging();
    byte[] buffer = BUFFER.get();
    long piece = Math.min(config.pieceSize(), FIRST_PIECE);
    long filled = 0;
    long base = installed[0];
    while (base + filled < length) {
      int want = (int) Math.min(buffer.length, Math.min(piece - filled, length - base - filled));
      int n = body.read(buffer, 0, want);
      if (n < 0) {
        break;
      }
      MemorySegment.copy(buffer, 0, staging, JAVA_BYTE, filled, n);
      filled += n;
      if (filled == piece || base + filled == length) {
        long bytes = base + filled == length ? (filled + page - 1) & -page : filled & -page;
        if (base + filled == length && bytes > filled) {
          staging.asSlice(filled, bytes - filled).fill((byte) 0);
        }
        installPiece(c, base, staging, bytes);
        long done = Math.min(filled, bytes);
        synchronized (this) {
          bytesFetched += done;
        }
        if (filled > done) {
          // A partial page waits for the rest of its bytes at the start of the staging area.
          MemorySegment.copy(staging, done, staging, 0, filled - done);
        }
        filled -= done;
        base += done;
        installed[0] = Math.min(length, base);
        piece = config.pieceSize();
      }
    }
  }

  private void installPiece(int c, long offsetInChunk, MemorySegment staging, long bytes) {
    gate.readLock().lock();
    try {
      long skip = 0;
      synchronized (this) {
        if (closed || state[c] != FETCHING) {
          throw new Abandoned();
        }
        if (firstByteNanos < 0) {
          firstByteNanos = System.nanoTime() - started;
        }
        if (offsetInChunk == 0 && config.markers() && !demanded[c] && chunkPages(c) > page) {
          // Readahead: keep the first page back as the marker whose touch moves the window on.
          MemorySegment marker = Arena.ofAuto().allocate(page, page);
          MemorySegment.copy(staging, 0, marker, 0, page);
          markers[c] = marker;
          skip = page;
        }
      }
      int err = host.install(chunkStart(c) + offsetInChunk + skip, staging.asSlice(skip), bytes - skip);
      if (err != 0) {
        throw new IllegalStateException("installing chunk " + c + " failed with " + Linux.errnoName(err));
      }
    } finally {
      gate.readLock().unlock();
    }
  }

  /** The chunk stopped being this worker's (the object failed or closed): stop quietly. */
  private static final class Abandoned extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Abandoned() {
      super(null, null, false, false);
    }
  }

  private synchronized void completed(int c) {
    if (state[c] != FETCHING) {
      return;
    }
    if (demanded[c]) {
      installMarker(c);
    }
    state[c] = markers[c] != null ? MARKED : RESIDENT;
    residentBytes += chunkPages(c);
    maxResidentBytes = Math.max(maxResidentBytes, residentBytes);
    if (lastUse[c] == 0) {
      lastUse[c] = ++useClock;
    }
    settleAwaits();
    enforceBudget();
    notifyAll();
  }

  /**
   * Evicts least recently used resident chunks while over the budget; never a chunk in the readahead window, nor one
   * an explicit wait is for (a wait for more than the budget would otherwise never see its whole range resident).
   */
  private void enforceBudget() {
    long evicting = 0;
    for (int c = 0; c < chunks; c++) {
      if (state[c] == EVICTING) {
        evicting += chunkPages(c);
      }
    }
    while (residentBytes - evicting > config.budgetBytes()) {
      int victim = -1;
      for (int c = 0; c < chunks; c++) {
        if (state[c] == RESIDENT && (victim < 0 || lastUse[c] < lastUse[victim])
            && (c < lastChunk || c > lastChunk + window) && !waitedOn(c)) {
          victim = c;
        }
      }
      if (victim < 0) {
        return;
      }
      state[victim] = EVICTING;
      // From now on, demand means a reader that touched the chunk while it was being dropped: fetch it again then.
      demanded[victim] = false;
      evicting += chunkPages(victim);
      host.evict(victim);
    }
  }

  /** The application's answer to {@link Host#evict}: done (the chunk is gone) or refused (it is in use). */
  synchronized void evicted(int c, boolean done) {
    if (state[c] != EVICTING) {
      return;
    }
    if (!done) {
      state[c] = RESIDENT;
      lastUse[c] = ++useClock;
      return;
    }
    evictions++;
    residentBytes -= chunkPages(c);
    state[c] = MISSING;
    boolean wanted = demanded[c] || waitedOn(c);
    demanded[c] = false;
    lastUse[c] = 0;
    if (wanted) {
      demanded[c] = true;
      startFetch(c);
    }
  }

  private boolean waitedOn(int c) {
    for (Await a : awaits) {
      if (a.first <= c && c <= a.last) {
        return true;
      }
    }
    return false;
  }

  private synchronized void failChunk(int c, String message, boolean retryable) {
    if (state[c] != FETCHING) {
      return;
    }
    // Keep what arrived; poison the rest so that readers fail at once instead of waiting.
    installMarker(c);
    state[c] = FAILED;
    errors[c] = message;
    errorRetryable[c] = retryable;
    host.poison(chunkStart(c), chunkPages(c));
    settleAwaits();
    notifyAll();
  }

  /** Fails every chunk that is not resident (the object is gone, forbidden or changed). */
  synchronized void failObject(String message, boolean retryable) {
    if (objectFailure != null) {
      return;
    }
    objectFailure = message;
    for (int c = 0; c < chunks; c++) {
      switch (state[c]) {
        case MARKED -> {
          // The kept page is of the pinned version: install it rather than lose it.
          installMarker(c);
          state[c] = RESIDENT;
        }
        case MISSING, FETCHING, EVICTING -> {
          installMarker(c);
          state[c] = FAILED;
          errors[c] = message;
          errorRetryable[c] = retryable;
          host.poison(chunkStart(c), chunkPages(c));
        }
        default -> { }
      }
    }
    settleAwaits();
    notifyAll();
    if (!closed) {
      host.failed(message, retryable);
    }
  }

  /** Counters, in the order of the {@code PagerStats} components (mode aside). */
  synchronized long[] stats() {
    return new long[] {faults, stalls, markerHits, fetches, bytesFetched, retries, evictions, residentBytes,
        maxResidentBytes, firstByteNanos};
  }

  /**
   * Poisons what is missing so no reader waits any more, stops fetching, and returns once no install is in progress.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      for (int c = 0; c < chunks; c++) {
        if (state[c] != RESIDENT && state[c] != EVICTING) {
          installMarker(c);
          host.poison(chunkStart(c), chunkPages(c));
        }
      }
      settleAwaits();
    }
    // Workers blocked in a read find the object closed at their next piece and drop their connection.
    workers.shutdownNow();
    // Wait out installs in progress: after this, nothing is written to the range any more.
    gate.writeLock().lock();
    gate.writeLock().unlock();
  }
}
