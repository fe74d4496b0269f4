package dev.hardway.testkit.fault;

import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection and its connection to the target, with four threads: a reader and a writer per direction.
 *
 * <p>Life cycle: open; then either both directions end with a half-close each (graceful), or the proxy ends the
 * exchange itself after an injected or truncated response (finishing: the server side is closed, the client gets a
 * FIN and a moment to close), or it ends abruptly with a reset on both sides (a {@code resetConnections}, a
 * {@code cutAfter} budget, an I/O error on either side, the proxy closing).
 */
final class ProxyConnection implements FramerContext {

  /** How a connection ended; each is counted in its own statistic. */
  enum Ending { GRACEFUL, RESET, CUT, FAILED, PROXY_CLOSED }

  /**
   * How long a connection that the proxy ends after an injected or truncated response waits for the client to
   * close, after the FIN: closing earlier, with request bytes still unread, would make the kernel send a reset that
   * can destroy the response before the client reads it.
   */
  static final Duration LINGER = Duration.ofSeconds(2);

  private static final Logger LOG = LoggerFactory.getLogger(ProxyConnection.class);

  private static final int OPEN = 0;
  private static final int FINISHING = 1;
  private static final int CLOSED = 2;

  private final String name;
  private final FaultState state;
  private final Socket client;
  private final Socket server;
  private final Lane upstream;
  private final Lane downstream;
  private final Consumer<ProxyConnection> onClosed;
  private final AtomicInteger phase = new AtomicInteger(OPEN);
  private final AtomicInteger directionsEnded = new AtomicInteger();
  private final AtomicBoolean passthrough = new AtomicBoolean();
  private final CountDownLatch clientClosed = new CountDownLatch(1);
  private final List<Thread> threads = new CopyOnWriteArrayList<>();

  ProxyConnection(String name, FaultState state, Socket client, Socket server, boolean http,
      Consumer<ProxyConnection> onClosed) throws IOException {
    this.name = name;
    this.state = state;
    this.client = client;
    this.server = server;
    this.onClosed = onClosed;
    this.upstream = new Lane(this, state, true, client, server);
    this.downstream = new Lane(this, state, false, server, client);
    if (http) {
      HttpExchanges exchanges = new HttpExchanges();
      upstream.frameRequests(new RequestFramer(upstream, this, exchanges));
      downstream.frameResponses(new ResponseFramer(downstream, this, exchanges));
    }
  }

  /** Starts the four threads through the proxy's thread starter. */
  void start(ThreadStarter starter) {
    for (Lane lane : List.of(upstream, downstream)) {
      threads.add(starter.start(name + "-" + lane.label() + "-read", lane::read));
      threads.add(starter.start(name + "-" + lane.label() + "-write", lane::write));
    }
    if (phase.get() == CLOSED) {
      interruptThreads();
    }
  }

  /** Starts a named thread that the proxy tracks. */
  @FunctionalInterface
  interface ThreadStarter {
    Thread start(String name, Runnable task);
  }

  boolean finishing() {
    return phase.get() != OPEN;
  }

  void clientClosed() {
    clientClosed.countDown();
  }

  /** One direction delivered its end of stream; the connection closes when both have. */
  void directionEnded() {
    if (directionsEnded.incrementAndGet() == 2) {
      close(Ending.GRACEFUL);
    }
  }

  /** After an injected or truncated response: FIN to the client, a moment for it to close, then close. */
  void finishGracefully() {
    try {
      client.shutdownOutput();
      if (!clientClosed.await(LINGER.toNanos(), TimeUnit.NANOSECONDS)) {
        LOG.debug("{}: client did not close within {} after the proxy ended the exchange", name, LINGER);
      }
    } catch (IOException e) {
      LOG.debug("{}: half-closing towards the client failed", name, e);
    } catch (InterruptedException e) {
      // Closing anyway.
    }
    close(Ending.GRACEFUL);
  }

  /** An I/O error in one of the threads. */
  void failed(Lane lane, boolean writer, IOException e) {
    int now = phase.get();
    if (now == CLOSED) {
      return;
    }
    if (now == FINISHING && lane == upstream) {
      if (writer) {
        // The server side was closed on purpose; requests still queued for it are dropped.
        lane.discardQueued();
      } else {
        // The client closed abruptly after the proxy's last response (HTTP clients often close with a reset): it
        // is gone either way.
        clientClosed.countDown();
      }
      return;
    }
    LOG.debug("{}: {} {} failed, resetting the connection", name, lane.label(), writer ? "write" : "read", e);
    close(Ending.FAILED);
  }

  /** A bug in the proxy: this connection ends (reset, counted as failed), the proxy and other connections go on. */
  void crashed(Lane lane, RuntimeException e) {
    LOG.warn("{}: {} thread failed unexpectedly, resetting the connection", name, lane.label(), e);
    close(Ending.FAILED);
  }

  /**
   * Closes the connection; the first call wins.
   *
   * @return true when this call closed it
   */
  boolean close(Ending ending) {
    if (phase.getAndSet(CLOSED) == CLOSED) {
      return false;
    }
    switch (ending) {
      case RESET -> state.counters.reset.increment();
      case CUT -> state.counters.cut.increment();
      case FAILED -> state.counters.failed.increment();
      default -> { }
    }
    boolean abortive = ending != Ending.GRACEFUL;
    closeSocket(client, abortive);
    closeSocket(server, abortive);
    interruptThreads();
    upstream.discardQueued();
    downstream.discardQueued();
    onClosed.accept(this);
    return true;
  }

  private void interruptThreads() {
    Thread current = Thread.currentThread();
    for (Thread thread : threads) {
      if (thread != current) {
        thread.interrupt();
      }
    }
  }

  /** Closes a socket; abortively means with a reset (RST), through a zero linger time, instead of a FIN. */
  static void closeSocket(Socket socket, boolean abortive) {
    try {
      if (abortive && !socket.isClosed()) {
        socket.setSoLinger(true, 0);
      }
    } catch (IOException e) {
      // Closing anyway.
    }
    try {
      socket.close();
    } catch (IOException e) {
      // Nothing left to do.
    }
  }

  // FramerContext

  @Override
  public @Nullable HttpFault claimFault(RequestHead head) {
    return state.claimFault(head);
  }

  @Override
  public void countRequest() {
    state.counters.httpRequests.increment();
  }

  @Override
  public void discarded(long bytes) {
    state.counters.bytesDiscarded.add(bytes);
  }

  @Override
  public String newRequestId() {
    return state.newRequestId();
  }

  @Override
  public boolean passthrough() {
    return passthrough.get();
  }

  @Override
  public void enterPassthrough() {
    if (passthrough.compareAndSet(false, true)) {
      state.counters.httpPassthroughConnections.increment();
    }
  }

  @Override
  public void wakeResponseSide() {
    try {
      // The response side is blocked reading the server; a read shutdown makes that read return end-of-stream at
      // once, and the response side then finds the injected response at the head of the queue.
      server.shutdownInput();
    } catch (IOException e) {
      LOG.debug("{}: waking the response side failed", name, e);
    }
  }

  @Override
  public void responseSideFinished() {
    if (phase.compareAndSet(OPEN, FINISHING)) {
      closeSocket(server, false);
    }
  }
}
