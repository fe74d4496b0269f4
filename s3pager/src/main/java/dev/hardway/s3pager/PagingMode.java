package dev.hardway.s3pager;

/** How a {@link PagedObject} gets its pages. */
public enum PagingMode {
  /**
   * Pages arrive on first touch: a handler process serves the object's userfaultfd, so {@link PagedObject#segment()}
   * and {@link PagedObject#directBuffer()} may be read directly.
   */
  USERFAULTFD,
  /**
   * Userfaultfd is not permitted here (or was switched off): only the explicit path ({@link PagedObject#read},
   * {@link PagedObject#prefetch}, {@link PagedObject#awaitResident}) works; direct views throw.
   */
  EXPLICIT_ONLY
}
