package dev.hardway.testkit.fault;

import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Finds where one HTTP/1.1 message body ends (RFC 9112 section 6), without changing a byte: a fixed
 * {@code Content-Length}, {@code chunked} transfer coding (chunk sizes, extensions and trailers are walked, not
 * decoded), or everything until the connection closes.
 */
final class BodyFramer {

  enum Mode { NONE, FIXED, CHUNKED, UNTIL_CLOSE }

  /**
   * How a body is delimited.
   *
   * @param mode the delimiting
   * @param length the length for {@link Mode#FIXED}, else 0
   */
  record Framing(Mode mode, long length) { }

  private enum Chunk { SIZE, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER_START, TRAILER, TRAILER_LF }

  /** Larger chunk sizes than this are taken as garbage rather than as a body to wait for. */
  private static final long MAX_CHUNK = 1L << 40;

  private Mode mode = Mode.NONE;
  private long remaining;
  private Chunk chunk = Chunk.SIZE;
  private int sizeDigits;
  private boolean done = true;
  private boolean failed;

  void start(Framing framing) {
    Mode mode = framing.mode();
    long length = framing.length();
    this.mode = mode;
    this.failed = false;
    switch (mode) {
      case NONE -> done = true;
      case FIXED -> {
        remaining = length;
        done = length == 0;
      }
      case CHUNKED -> {
        chunk = Chunk.SIZE;
        remaining = 0;
        sizeDigits = 0;
        done = false;
      }
      case UNTIL_CLOSE -> done = false;
    }
  }

  Mode mode() {
    return mode;
  }

  boolean done() {
    return done;
  }

  /** The chunked framing was malformed: the caller stops framing this connection. */
  boolean failed() {
    return failed;
  }

  /** Ends a body that runs until the connection closes. */
  void endOfStream() {
    if (mode == Mode.UNTIL_CLOSE) {
      done = true;
    }
  }

  /**
   * Takes the body bytes at the start of the input.
   *
   * @return how many of the bytes belong to this body; fewer than offered once it is done (or failed)
   */
  int consume(byte[] input, int offset, int length) {
    if (done || failed) {
      return 0;
    }
    switch (mode) {
      case FIXED -> {
        int take = (int) Math.min(remaining, length);
        remaining -= take;
        done = remaining == 0;
        return take;
      }
      case UNTIL_CLOSE -> {
        return length;
      }
      case CHUNKED -> {
        return consumeChunked(input, offset, length);
      }
      default -> {
        return 0;
      }
    }
  }

  private int consumeChunked(byte[] input, int offset, int length) {
    int i = 0;
    while (i < length && !done && !failed) {
      if (chunk == Chunk.DATA) {
        int take = (int) Math.min(remaining, length - i);
        remaining -= take;
        i += take;
        if (remaining == 0) {
          chunk = Chunk.DATA_CR;
        }
        continue;
      }
      byte b = input[offset + i++];
      switch (chunk) {
        case SIZE -> {
          int digit = Character.digit(b, 16);
          if (digit >= 0) {
            remaining = remaining * 16 + digit;
            sizeDigits++;
            failed = remaining > MAX_CHUNK;
          } else if (sizeDigits > 0 && (b == ';' || b == ' ' || b == '\t')) {
            chunk = Chunk.EXTENSION;
          } else if (sizeDigits > 0 && b == '\r') {
            chunk = Chunk.SIZE_LF;
          } else if (sizeDigits > 0 && b == '\n') {
            endOfSizeLine();
          } else {
            failed = true;
          }
        }
        case EXTENSION -> {
          if (b == '\n') {
            endOfSizeLine();
          }
        }
        case SIZE_LF -> {
          if (b == '\n') {
            endOfSizeLine();
          } else {
            failed = true;
          }
        }
        case DATA_CR -> {
          if (b == '\r') {
            chunk = Chunk.DATA_LF;
          } else if (b == '\n') {
            nextChunk();
          } else {
            failed = true;
          }
        }
        case DATA_LF -> {
          if (b == '\n') {
            nextChunk();
          } else {
            failed = true;
          }
        }
        case TRAILER_START -> {
          if (b == '\r') {
            chunk = Chunk.TRAILER_LF;
          } else if (b == '\n') {
            done = true;
          } else {
            chunk = Chunk.TRAILER;
          }
        }
        case TRAILER -> {
          if (b == '\n') {
            chunk = Chunk.TRAILER_START;
          }
        }
        case TRAILER_LF -> {
          if (b == '\n') {
            done = true;
          } else {
            failed = true;
          }
        }
        default -> failed = true;
      }
    }
    return i;
  }

  private void endOfSizeLine() {
    chunk = remaining == 0 ? Chunk.TRAILER_START : Chunk.DATA;
  }

  private void nextChunk() {
    chunk = Chunk.SIZE;
    remaining = 0;
    sizeDigits = 0;
  }

  /**
   * How a request body is framed: chunked, a length, or none (RFC 9112 section 6.3).
   *
   * @return the mode and length, or null when the headers are contradictory or malformed
   */
  static @Nullable Framing requestFraming(HeadBuffer.Parsed head) {
    List<String> codings = head.headers().get("transfer-encoding");
    if (codings != null) {
      return lastCodingIsChunked(codings) ? framing(Mode.CHUNKED, 0) : null;
    }
    long length = contentLength(head);
    if (length == -2) {
      return null;
    }
    return length > 0 ? framing(Mode.FIXED, length) : framing(Mode.NONE, 0);
  }

  /**
   * How a response body is framed, given the request it answers.
   *
   * @return the mode and length, or null when the headers are contradictory or malformed
   */
  static @Nullable Framing responseFraming(HeadBuffer.Parsed head, int status, boolean headRequest) {
    if (headRequest || status < 200 || status == 204 || status == 304) {
      return framing(Mode.NONE, 0);
    }
    List<String> codings = head.headers().get("transfer-encoding");
    if (codings != null) {
      return lastCodingIsChunked(codings) ? framing(Mode.CHUNKED, 0) : framing(Mode.UNTIL_CLOSE, 0);
    }
    long length = contentLength(head);
    if (length == -2) {
      return null;
    }
    if (length == -1) {
      return framing(Mode.UNTIL_CLOSE, 0);
    }
    return length > 0 ? framing(Mode.FIXED, length) : framing(Mode.NONE, 0);
  }

  private static Framing framing(Mode mode, long length) {
    return new Framing(mode, length);
  }

  private static boolean lastCodingIsChunked(List<String> values) {
    String last = values.get(values.size() - 1);
    int comma = last.lastIndexOf(',');
    return last.substring(comma + 1).strip().toLowerCase(Locale.ROOT).equals("chunked");
  }

  /** The Content-Length, -1 when absent, -2 when malformed or contradictory. */
  private static long contentLength(HeadBuffer.Parsed head) {
    List<String> values = head.headers().get("content-length");
    if (values == null) {
      return -1;
    }
    long length = -1;
    for (String value : values) {
      for (String part : value.split(",", -1)) {
        String digits = part.strip();
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
          return -2;
        }
        long parsed = Long.parseLong(digits);
        if (length >= 0 && parsed != length) {
          return -2;
        }
        length = parsed;
      }
    }
    return length;
  }
}
