package dev.hardway.s3pager.internal;

/** Message codes between the application and its handler process; both ends are this same jar. */
final class Protocol {
  static final int MAGIC = 0x53335047;

  // Application to handler.
  static final byte PREFETCH = 1;
  static final byte AWAIT = 2;
  static final byte EVICTED = 3;
  static final byte STATS = 4;
  static final byte CREDENTIALS = 5;
  static final byte CLOSE = 6;

  // Handler to application.
  static final byte READY = 10;
  static final byte INIT_FAILED = 11;
  static final byte AWAITED = 12;
  static final byte EVICT = 13;
  static final byte STATS_REPLY = 14;
  static final byte FAILED = 15;
  static final byte CLOSED = 16;

  private Protocol() { }
}
