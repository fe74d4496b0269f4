package dev.hardway.s3pager.internal;

import dev.hardway.s3pager.S3PagerException;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Explicit-only mode: the engine runs in this process and copies fetched bytes into the mapping; no page is ever
 * resolved by a fault, so no thread waits on one. Only the explicit read path may touch the memory.
 */
public final class LocalBackend implements Backend {
  private final Mapping mapping;
  private final Engine engine;
  private final Map<Long, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final ExecutorService evictor =
      Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("s3pager-evict").factory());
  private volatile @Nullable String failure;

  /**
   * Starts the engine.
   *
   * @param config the configuration
   * @param mapping a writable mapping without userfaultfd
   * @param s3 the pager's client for fetching (see {@link #client})
   */
  public LocalBackend(PagerConfig config, Mapping mapping, S3Client s3) {
    this.mapping = mapping;
    this.engine = new Engine(config, new LocalHost(), s3);
  }

  /**
   * A client for fetching in this process: no SDK retries (the engine retries), bounded timeouts.
   *
   * @param client where and how (its credential fields are ignored)
   * @param credentials the pager's provider
   * @return the client; close it
   */
  public static S3Client client(ClientConfig client, AwsCredentialsProvider credentials) {
    return Fetcher.client(client, credentials::resolveCredentials);
  }

  @Override
  public void prefetch(long first, long last) {
    engine.prefetch(first, last);
  }

  @Override
  public void accessed(int chunk) {
    engine.accessed(chunk);
  }

  @Override
  public CompletableFuture<Void> await(long first, long last) {
    long id = ids.incrementAndGet();
    CompletableFuture<Void> f = new CompletableFuture<>();
    pending.put(id, f);
    engine.await(id, first, last);
    return f;
  }

  @Override
  public CompletableFuture<long[]> stats() {
    return CompletableFuture.completedFuture(engine.stats());
  }

  @Override
  public @Nullable String failure() {
    return failure;
  }

  @Override
  public long handlerPid() {
    return -1;
  }

  @Override
  public void close() {
    engine.close();
    evictor.shutdownNow();
  }

  private final class LocalHost implements Host {
    @Override
    public int install(long offset, MemorySegment src, long length) {
      MemorySegment.copy(src, 0, mapping.segment(), offset, length);
      return 0;
    }

    @Override
    public void poison(long offset, long length) {
      // Nothing faults here: failed chunks are refused by the engine's awaits.
    }

    @Override
    public void wake(long offset, long length) {
      // Nothing waits on faults here.
    }

    @Override
    public void evict(int chunk) {
      // Not under the engine's lock: the answer re-enters the engine.
      evictor.execute(() -> engine.evicted(chunk, mapping.tryEvict(chunk)));
    }

    @Override
    public void awaited(long id, @Nullable String error, boolean retryable) {
      CompletableFuture<Void> f = pending.remove(id);
      if (f != null) {
        if (error == null) {
          f.complete(null);
        } else {
          f.completeExceptionally(new S3PagerException(error, retryable));
        }
      }
    }

    @Override
    public void failed(String message, boolean retryable) {
      failure = message;
    }
  }
}
