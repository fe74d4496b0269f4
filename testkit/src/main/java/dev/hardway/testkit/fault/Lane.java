package dev.hardway.testkit.fault;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One direction of one proxied connection: a reader thread that reads the source into chunks stamped with their
 * arrival time and due time, and a writer thread that delivers them to the destination when due, paced to the
 * bandwidth limit.
 *
 * <p>Bytes are never reordered: a chunk is due at {@code max(due time of the chunk before, arrival + latency +
 * jitter)}. The queue between the two threads is bounded ({@code queueCapacity} chunks of at most {@code chunkSize}
 * bytes): when the writer falls behind, the reader blocks, stops reading, and TCP flow control pushes back on the
 * sender, so memory stays bounded however slow the fault makes the destination.
 */
final class Lane implements FrameOutput {

  /** Pacing granularity: a bandwidth limit is enforced in slices of 1/20 s of data. */
  private static final int SLICES_PER_SECOND = 20;

  private static final int MAX_SLICE = 16 * 1024;

  private final ProxyConnection connection;
  private final FaultState state;
  private final boolean upstream;
  private final InputStream in;
  private final OutputStream out;
  private final Socket destination;
  private final BlockingQueue<Segment> queue;
  private @Nullable RequestFramer requestFramer;
  private @Nullable ResponseFramer responseFramer;

  // Reader-side state, touched by the reader thread only.
  private long cutGeneration;
  private long cutCount;
  private boolean cut;

  // Writer-side state, touched by the writer thread only.
  private long lastDue = Long.MIN_VALUE;
  private long nextSend = System.nanoTime();

  /** The streams are taken up front: once a socket's input is shut down, it no longer hands out its stream. */
  Lane(ProxyConnection connection, FaultState state, boolean upstream, Socket source, Socket destination)
      throws IOException {
    this.connection = connection;
    this.state = state;
    this.upstream = upstream;
    this.in = source.getInputStream();
    this.out = destination.getOutputStream();
    this.destination = destination;
    this.queue = new ArrayBlockingQueue<>(state.queueCapacity);
    this.cutGeneration = state.settings(upstream).cutGeneration();
  }

  void frameRequests(RequestFramer framer) {
    this.requestFramer = framer;
  }

  void frameResponses(ResponseFramer framer) {
    this.responseFramer = framer;
  }

  String label() {
    return upstream ? "up" : "down";
  }

  /** The reader thread's loop. */
  void read() {
    byte[] buffer = new byte[state.chunkSize];
    try {
      while (true) {
        int n = in.read(buffer);
        long arrival = System.nanoTime();
        if (n < 0) {
          endOfStream(arrival);
          return;
        }
        if (upstream && connection.finishing()) {
          // The proxy already ended the exchange towards the client; what the client still sends is read only so
          // that closing the socket later does not turn into a reset that could destroy the response in flight.
          state.counters.bytesDiscarded.add(n);
          continue;
        }
        byte[] bytes = Arrays.copyOf(buffer, n);
        if (requestFramer != null) {
          requestFramer.feed(bytes, 0, n, arrival);
        } else if (responseFramer != null) {
          if (!responseFramer.feed(bytes, 0, n, arrival)) {
            return;
          }
        } else {
          data(bytes, 0, n, arrival, 0, 0);
        }
        if (cut) {
          return;
        }
      }
    } catch (InterruptedException e) {
      // The connection is closing.
    } catch (IOException e) {
      connection.failed(this, false, e);
    } catch (RuntimeException e) {
      connection.crashed(this, e);
    }
  }

  private void endOfStream(long arrival) throws InterruptedException {
    if (upstream) {
      connection.clientClosed();
      if (connection.finishing() || (requestFramer != null && requestFramer.draining())) {
        return;
      }
      if (requestFramer != null) {
        requestFramer.eof(arrival);
        return;
      }
    } else if (responseFramer != null) {
      responseFramer.eof(arrival);
      return;
    }
    eof(arrival);
  }

  @Override
  public void data(byte[] bytes, int offset, int length, long arrival, long extraDelay, long bytesPerSecond)
      throws InterruptedException {
    if (length == 0) {
      return;
    }
    if (cut) {
      state.counters.bytesDiscarded.add(length);
      return;
    }
    if (state.blackHole()) {
      state.counters.bytesBlackHoled.add(length);
      return;
    }
    LaneSettings settings = state.settings(upstream);
    int send = length;
    if (settings.cutGeneration() != cutGeneration) {
      cutGeneration = settings.cutGeneration();
      cutCount = 0;
    }
    if (settings.cutAfter() >= 0) {
      long allowed = settings.cutAfter() - cutCount;
      if (length >= allowed) {
        send = (int) allowed;
        cut = true;
        state.counters.bytesDiscarded.add(length - send);
      }
      cutCount += send;
    }
    long due = arrival + state.sampleDelay(settings) + extraDelay;
    if (send > 0) {
      queue.put(new Segment(Segment.Kind.DATA, bytes, offset, send, due, bytesPerSecond));
    }
    if (cut) {
      queue.put(Segment.marker(Segment.Kind.RESET, due));
    }
  }

  @Override
  public void eof(long arrival) throws InterruptedException {
    if (cut) {
      return;
    }
    state.awaitBlackHoleLifted();
    queue.put(Segment.marker(Segment.Kind.EOF, arrival + state.sampleDelay(state.settings(upstream))));
  }

  @Override
  public void finish(long arrival, long extraDelay) throws InterruptedException {
    // Like a FIN, the end of an exchange the proxy closes does not cross a partition.
    state.awaitBlackHoleLifted();
    queue.put(Segment.marker(Segment.Kind.FINISH,
        arrival + state.sampleDelay(state.settings(upstream)) + extraDelay));
  }

  /** The writer thread's loop. */
  void write() {
    try {
      while (true) {
        Segment segment = queue.take();
        long due = Math.max(lastDue, segment.deliverAt());
        lastDue = due;
        sleepUntil(due);
        switch (segment.kind()) {
          case DATA -> write(segment);
          case EOF -> {
            destination.shutdownOutput();
            connection.directionEnded();
            return;
          }
          case RESET -> {
            connection.close(ProxyConnection.Ending.CUT);
            return;
          }
          case FINISH -> {
            connection.finishGracefully();
            return;
          }
        }
      }
    } catch (InterruptedException e) {
      // The connection is closing.
    } catch (IOException e) {
      connection.failed(this, true, e);
    } catch (RuntimeException e) {
      connection.crashed(this, e);
    }
  }

  private void write(Segment segment) throws IOException, InterruptedException {
    int offset = segment.offset();
    int remaining = segment.length();
    while (remaining > 0) {
      long rate = rate(state.settings(upstream).bytesPerSecond(), segment.bytesPerSecond());
      int slice = remaining;
      if (rate > 0) {
        slice = (int) Math.min(remaining, Math.max(1, Math.min(MAX_SLICE, rate / SLICES_PER_SECOND)));
        // Each slice is scheduled after the previous one by its size over the rate; after an idle spell the schedule
        // restarts from now rather than sending a burst to catch up.
        long start = Math.max(nextSend, System.nanoTime());
        sleepUntil(start);
        nextSend = start + slice * 1_000_000_000L / rate;
      }
      out.write(segment.bytes(), offset, slice);
      (upstream ? state.counters.bytesUpstream : state.counters.bytesDownstream).add(slice);
      offset += slice;
      remaining -= slice;
    }
  }

  private static long rate(long bandwidth, long segmentRate) {
    if (bandwidth <= 0) {
      return segmentRate;
    }
    return segmentRate <= 0 ? bandwidth : Math.min(bandwidth, segmentRate);
  }

  private static void sleepUntil(long deadline) throws InterruptedException {
    long wait = deadline - System.nanoTime();
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep(wait);
    }
  }

  /** Counts what is still queued as discarded; called once the connection is closed. */
  void discardQueued() {
    List<Segment> left = new ArrayList<>();
    queue.drainTo(left);
    long bytes = 0;
    for (Segment segment : left) {
      bytes += segment.length();
    }
    state.counters.bytesDiscarded.add(bytes);
  }
}
