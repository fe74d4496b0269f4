package dev.hardway.s3pager.internal;

import java.lang.foreign.MemorySegment;
import org.jspecify.annotations.Nullable;

/**
 * What the {@link Engine} does to the mapped memory and tells its owner: through a userfaultfd in the handler
 * process, or with plain copies in the application's own process when userfaultfd is not permitted. Every method must
 * return quickly and never wait on the application JVM (which may be stopped at a safepoint).
 */
interface Host {
  /**
   * Installs page-aligned bytes.
   *
   * @param offset offset in the object, page aligned
   * @param src the bytes, in this process's memory
   * @param length a page multiple
   * @return 0, or an errno
   */
  int install(long offset, MemorySegment src, long length);

  /**
   * Makes missing pages of a range fail when touched (and wakes threads waiting there).
   *
   * @param offset page-aligned offset
   * @param length a page multiple
   */
  void poison(long offset, long length);

  /**
   * Wakes threads waiting on faults in a range that is present already.
   *
   * @param offset page-aligned offset
   * @param length a page multiple
   */
  void wake(long offset, long length);

  /**
   * Asks the application to drop a resident chunk; the answer comes back through {@link Engine#evicted}.
   *
   * @param chunk the chunk
   */
  void evict(int chunk);

  /**
   * Answers an {@link Engine#await}.
   *
   * @param id the request
   * @param error null when the range is resident
   * @param retryable whether the error is transient
   */
  void awaited(long id, @Nullable String error, boolean retryable);

  /**
   * The object failed as a whole (404, 403, 412); readers get this message.
   *
   * @param message what was wrong
   * @param retryable whether reopening may help
   */
  void failed(String message, boolean retryable);
}
