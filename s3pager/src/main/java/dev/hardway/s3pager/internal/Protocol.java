package dev.hardway.s3pager.internal;

/**
 * Message codes between the application and its handler process; both ends are this same jar. Every message about
 * an object carries the object's id, given by the application at {@link #OPEN}.
 */
final class Protocol {
  static final int MAGIC = 0x53335048;

  // Application to handler.
  static final byte OPEN = 1;
  static final byte PREFETCH = 2;
  static final byte AWAIT = 3;
  static final byte EVICTED = 4;
  static final byte STATS = 5;
  static final byte CREDENTIALS = 6;
  static final byte CLOSE = 7;
  static final byte ACCESSED = 8;

  // Handler to application.
  static final byte READY = 10;
  static final byte INIT_FAILED = 11;
  static final byte OPENED = 12;
  static final byte AWAITED = 13;
  static final byte EVICT = 14;
  static final byte STATS_REPLY = 15;
  static final byte FAILED = 16;
  static final byte CLOSED = 17;

  private Protocol() { }
}
