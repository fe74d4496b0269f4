package dev.hardway.testkit.fault;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** A {@link FrameOutput} and {@link FramerContext} that record what the HTTP framers do, for tests without sockets. */
final class FramingRecorder implements FrameOutput, FramerContext {

  /**
   * One call on the output.
   *
   * @param kind {@code data}, {@code eof} or {@code finish}
   * @param text the bytes, for data
   * @param extraDelayNanos the extra delay asked for
   * @param bytesPerSecond the rate asked for
   */
  record Event(String kind, String text, long extraDelayNanos, long bytesPerSecond) { }

  final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  final List<Event> events = new ArrayList<>();
  final List<HttpFault> rules = new ArrayList<>();
  final HttpExchanges exchanges = new HttpExchanges();
  boolean passthrough;
  boolean woken;
  boolean finished;
  long discarded;
  int requests;

  RequestFramer requestFramer() {
    return new RequestFramer(this, this, exchanges);
  }

  ResponseFramer responseFramer() {
    return new ResponseFramer(this, this, exchanges);
  }

  String text() {
    return bytes.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void data(byte[] data, int offset, int length, long arrivalNanos, long extraDelayNanos,
      long bytesPerSecond) {
    bytes.write(data, offset, length);
    events.add(new Event("data", new String(data, offset, length, StandardCharsets.ISO_8859_1), extraDelayNanos,
        bytesPerSecond));
  }

  @Override
  public void eof(long arrivalNanos) {
    events.add(new Event("eof", "", 0, 0));
  }

  @Override
  public void finish(long arrivalNanos, long extraDelayNanos) {
    events.add(new Event("finish", "", extraDelayNanos, 0));
  }

  @Override
  public @Nullable HttpFault claimFault(RequestHead head) {
    for (HttpFault rule : rules) {
      if (rule.tryClaim(head)) {
        return rule;
      }
    }
    return null;
  }

  @Override
  public void countRequest() {
    requests++;
  }

  @Override
  public void discarded(long count) {
    discarded += count;
  }

  @Override
  public String newRequestId() {
    return "REQ-1";
  }

  @Override
  public boolean passthrough() {
    return passthrough;
  }

  @Override
  public void enterPassthrough() {
    passthrough = true;
  }

  @Override
  public void wakeResponseSide() {
    woken = true;
  }

  @Override
  public void responseSideFinished() {
    finished = true;
  }

  /** Feeds a whole stream in pieces of the given sizes, cycling through them. */
  static void feed(Feeder feeder, byte[] stream, int... pieces) throws InterruptedException {
    int position = 0;
    int i = 0;
    while (position < stream.length) {
      int size = Math.min(pieces[i++ % pieces.length], stream.length - position);
      byte[] piece = java.util.Arrays.copyOfRange(stream, position, position + size);
      feeder.feed(piece, 0, size);
      position += size;
    }
  }

  /** Either framer's feed method. */
  @FunctionalInterface
  interface Feeder {
    void feed(byte[] bytes, int offset, int length) throws InterruptedException;
  }

  static byte[] latin1(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }
}
