package dev.hardway.s3pager.internal;

import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Where a paged object's chunks come from: a handler process (userfaultfd mode) or an engine in this process
 * (explicit-only mode). Futures complete exceptionally with an {@code S3PagerException}.
 */
public interface Backend extends AutoCloseable {
  /**
   * Starts fetching a byte range.
   *
   * @param first the first byte
   * @param last the last byte
   */
  void prefetch(long first, long last);

  /**
   * Tells the engine that a reader used a resident chunk without asking for it (the explicit path's fast path), so
   * that sequential detection and readahead go on.
   *
   * @param chunk the chunk
   */
  void accessed(int chunk);

  /**
   * Completes when the byte range is resident.
   *
   * @param first the first byte
   * @param last the last byte
   * @return the future
   */
  CompletableFuture<Void> await(long first, long last);

  /**
   * The engine's counters (see {@code Engine#stats}).
   *
   * @return the future counters
   */
  CompletableFuture<long[]> stats();

  /**
   * Why the object failed as a whole, if it did.
   *
   * @return the message, or null
   */
  @Nullable String failure();

  /**
   * The handler process, if there is one.
   *
   * @return its pid, or -1
   */
  long handlerPid();

  @Override
  void close();
}
