package dev.hardway.testkit.fault;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fault-injecting TCP proxy on a loopback port, in front of one target server: point a client at {@link #uri()}
 * instead of the server, then switch faults on and off while the test runs. In HTTP mode it also understands
 * HTTP/1.1 and can answer, delay, slow down or cut short chosen requests.
 *
 * <pre>{@code
 * try (FaultProxy proxy = FaultProxy.builder().target("127.0.0.1", s3Port).name("s3").http(true).start()) {
 *   S3Client s3 = S3Client.builder().endpointOverride(proxy.uri()).forcePathStyle(true)...build();
 *   proxy.latency(Direction.DOWNSTREAM, Duration.ofMillis(70), Duration.ofMillis(10)); // a far-away region
 *   proxy.addHttpFault(HttpFault.when(HttpMatch.method("PUT")).respond(HttpFaultResponse.s3SlowDown()).times(2));
 *   s3.putObject(...);               // retried twice by the SDK, then succeeds
 *   proxy.blackHole(true);           // a partition: the next call times out
 *   proxy.clearFaults();             // and everything is back to normal
 * }
 * }</pre>
 *
 * <h2>TCP faults</h2>
 * They apply to open connections and new ones at once, to bytes that arrive after the change, until switched off:
 * <ul>
 *   <li>{@link #latency latency}: every byte in a direction is held a fixed time plus a uniform random jitter; bytes
 *       are never reordered.
 *   <li>{@link #bandwidth bandwidth}: each connection's throughput in a direction is limited.
 *   <li>{@link #blackHole blackHole}: bytes vanish both ways while connections stay open, as in a network partition.
 *   <li>{@link #refuseConnections refuseConnections}: the port stops listening, so new connections get
 *       {@code ECONNREFUSED}; open ones keep working.
 *   <li>{@link #resetConnections resetConnections}: one shot, every open connection is reset (RST) on both sides.
 *   <li>{@link #cutAfter cutAfter}: every connection is reset once it has carried so many more bytes in a direction.
 * </ul>
 *
 * <h2>HTTP faults</h2>
 * With {@link Builder#http http(true)} the proxy frames HTTP/1.1 requests and responses (lengths, chunked bodies,
 * interim {@code 100 Continue} responses, so {@code Expect: 100-continue} uploads keep working) and applies
 * {@link HttpFault} rules chosen by the request line and headers: answer without forwarding (AWS-shaped errors in
 * {@link HttpFaultResponse}), delay, slow or truncate the response body. HTTP faults need HTTP/1.1 in clear text:
 * a connection that upgrades ({@code 101 Switching Protocols}), tunnels ({@code CONNECT}), speaks HTTP/2 with prior
 * knowledge, TLS, or anything the proxy cannot frame is passed through untouched, TCP faults still applying, and
 * counted in {@link Stats#httpPassthroughConnections()}.
 *
 * <h2>Threads and resources</h2>
 * Every connection is served by four virtual threads (a reader and a writer per direction), named
 * {@code hardway-fault-<name>-<connection>-<up|down>-<read|write>}, and holds at most {@link Builder#queueCapacity}
 * chunks of {@link Builder#chunkSize} bytes per direction: a slow direction pushes back on its sender through TCP
 * flow control instead of buffering. A failure on one connection (a peer reset, an unreachable target) ends that
 * connection only and is counted in {@link #stats()}. {@link #close()} stops every thread and closes every socket.
 *
 * <h2>Thread safety</h2>
 * All methods may be called from any thread, also while traffic flows.
 */
public final class FaultProxy implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(FaultProxy.class);

  /** How long {@link #close()} waits for the proxy's threads to end. */
  private static final Duration CLOSE_DEADLINE = Duration.ofSeconds(5);

  /** Latency, jitter and delays are capped so that time arithmetic in nanoseconds cannot overflow. */
  private static final Duration MAX_DELAY = Duration.ofHours(1);

  private final String name;
  private final String targetHost;
  private final int targetPort;
  private final boolean http;
  private final Duration connectTimeout;
  private final InetAddress loopback;
  private final int port;
  private final FaultState state;
  private final ReentrantLock lifecycle = new ReentrantLock();
  private final Set<ProxyConnection> connections = ConcurrentHashMap.newKeySet();
  private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
  private final AtomicLong connectionIds = new AtomicLong();
  private @Nullable ServerSocket listener;
  private @Nullable Thread acceptor;
  private volatile boolean refusing;
  private volatile boolean closed;

  private FaultProxy(Builder builder, String targetHost, ServerSocket listener) {
    this.name = builder.name;
    this.targetHost = targetHost;
    this.targetPort = builder.targetPort;
    this.http = builder.http;
    this.connectTimeout = builder.connectTimeout;
    this.loopback = listener.getInetAddress();
    this.port = listener.getLocalPort();
    this.listener = listener;
    this.state = new FaultState(builder.random, builder.chunkSize, builder.queueCapacity);
  }

  /**
   * Starts describing a proxy.
   *
   * @return a builder; {@link Builder#target target} is required
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Where clients connect instead of the target.
   *
   * @return {@code http://127.0.0.1:<port>}
   */
  public URI uri() {
    String host = loopback.getHostAddress();
    if (loopback instanceof Inet6Address) {
      host = "[" + host + "]";
    }
    return URI.create("http://" + host + ":" + port);
  }

  /**
   * The loopback port the proxy listens on; it stays the same while connections are refused.
   *
   * @return the port
   */
  public int port() {
    return port;
  }

  /**
   * The name given to the builder.
   *
   * @return e.g. {@code "s3"}
   */
  public String name() {
    return name;
  }

  /**
   * Whether the proxy frames HTTP/1.1 and accepts HTTP faults.
   *
   * @return the builder's {@link Builder#http http} setting
   */
  public boolean http() {
    return http;
  }

  /**
   * Holds every byte in a direction for {@code fixed} plus a uniform random jitter in {@code [0, jitter]}, drawn per
   * chunk from the builder's {@link Builder#random random}. Bytes keep their order: a chunk never overtakes the one
   * before it, so a large jitter makes delivery bursty rather than reordered. Applies to bytes arriving after the
   * call, on open and new connections.
   *
   * @param direction which way; {@link Direction#BOTH} sets each direction, so a round trip gets twice the delay
   * @param fixed the minimum added delay, zero to switch latency off
   * @param jitter the largest random extra, zero for none
   * @return this proxy
   * @throws IllegalArgumentException when a duration is negative or longer than an hour
   */
  public FaultProxy latency(Direction direction, Duration fixed, Duration jitter) {
    Objects.requireNonNull(direction, "direction");
    long fixedNanos = requireDelay("latency", fixed);
    long jitterNanos = requireDelay("jitter", jitter);
    state.update(direction, settings -> settings.withLatency(fixedNanos, jitterNanos));
    return this;
  }

  /**
   * Holds every byte in a direction for this long, without jitter.
   *
   * @param direction which way
   * @param fixed the added delay, zero to switch latency off
   * @return this proxy
   * @throws IllegalArgumentException when the duration is negative or longer than an hour
   */
  public FaultProxy latency(Direction direction, Duration fixed) {
    return latency(direction, fixed, Duration.ZERO);
  }

  /**
   * Limits each connection's throughput in a direction. Each connection is paced on its own in slices of 1/20 s of
   * data; the first slice of a burst goes at once. Takes effect at the next slice, for queued bytes too.
   *
   * @param direction which way
   * @param bytesPerSecond the limit, or 0 for no limit
   * @return this proxy
   * @throws IllegalArgumentException when the limit is negative
   */
  public FaultProxy bandwidth(Direction direction, long bytesPerSecond) {
    Objects.requireNonNull(direction, "direction");
    if (bytesPerSecond < 0) {
      throw new IllegalArgumentException("bandwidth must be at least 0 bytes per second (0: unlimited), got "
          + bytesPerSecond);
    }
    state.update(direction, settings -> settings.withBandwidth(bytesPerSecond));
    return this;
  }

  /**
   * Lifts the bandwidth limit in a direction; the same as {@code bandwidth(direction, 0)}.
   *
   * @param direction which way
   * @return this proxy
   */
  public FaultProxy unlimitedBandwidth(Direction direction) {
    return bandwidth(direction, 0);
  }

  /**
   * Makes bytes vanish both ways while connections stay open, as in a network partition: clients see read
   * timeouts, not errors. Dropped bytes are counted in {@link Stats#bytesBlackHoled()}. The end of a stream (FIN) is
   * held back instead of dropped and delivered when the black hole is switched off, as TCP would retransmit it.
   *
   * <p>Unlike a real partition, the dropped bytes are not retransmitted afterwards: a connection that lost bytes in
   * the middle of a message is usually unusable, which is what a client's timeout-and-reconnect logic has to handle.
   * Bytes that arrived before the switch are still delivered.
   *
   * @param on true to start dropping, false to stop
   * @return this proxy
   */
  public FaultProxy blackHole(boolean on) {
    state.blackHole(on);
    return this;
  }

  /**
   * Stops or resumes accepting connections. While refusing, the listening socket is closed, so connection attempts
   * fail with {@code ECONNREFUSED} ({@link java.net.ConnectException}); connections already open keep working.
   * Resuming listens on the same port again.
   *
   * @param refuse true to refuse new connections, false to accept them again
   * @return this proxy
   * @throws IllegalStateException when the port cannot be bound again, e.g. another process took it meanwhile
   */
  public FaultProxy refuseConnections(boolean refuse) {
    lifecycle.lock();
    try {
      if (refuse) {
        refusing = true;
        stopListening();
      } else {
        if (listener == null && !closed) {
          ServerSocket socket;
          try {
            socket = listen(loopback, port);
          } catch (IOException e) {
            throw new IllegalStateException(this + ": cannot listen on port " + port + " again: " + e.getMessage(), e);
          }
          listener = socket;
          acceptor = startAcceptor(socket);
        }
        refusing = false;
      }
    } finally {
      lifecycle.unlock();
    }
    return this;
  }

  /**
   * Resets every open connection on both sides at once (RST, through a zero linger time): clients see
   * {@code Connection reset}, whatever was queued is dropped. New connections are not affected.
   *
   * @return how many connections were reset
   */
  public int resetConnections() {
    int count = 0;
    for (ProxyConnection connection : connections) {
      if (connection.close(ProxyConnection.Ending.RESET)) {
        count++;
      }
    }
    return count;
  }

  /**
   * Resets every connection (RST on both sides) after it has carried this many more bytes in a direction: open
   * connections count from this call, new ones from their start. The bytes up to the limit are delivered, the rest
   * dropped. A connection that has not yet used its budget is not reset while idle.
   *
   * @param direction which way to count; {@link Direction#BOTH} gives each direction its own budget
   * @param bytes the budget, 0 to reset at the next byte, or -1 to lift the limit
   * @return this proxy
   * @throws IllegalArgumentException when the budget is below -1
   */
  public FaultProxy cutAfter(Direction direction, long bytes) {
    Objects.requireNonNull(direction, "direction");
    if (bytes < -1) {
      throw new IllegalArgumentException("cutAfter must be at least 0 bytes, or -1 to lift it, got " + bytes);
    }
    state.cutAfter(direction, bytes);
    return this;
  }

  /**
   * Installs an HTTP fault rule. Rules are tried in the order added; each request gets the first that matches and
   * has hits left.
   *
   * @param rule the rule, from {@link HttpFault#when(HttpMatch)}
   * @return the installed rule, to watch with {@link HttpFault#matched()} and remove with
   *     {@link #removeHttpFault(HttpFault)}
   * @throws IllegalStateException when the proxy is not in HTTP mode, or the rule has no action or actions that do
   *     not combine
   */
  public HttpFault addHttpFault(HttpFault.Builder rule) {
    Objects.requireNonNull(rule, "rule");
    if (!http) {
      throw new IllegalStateException(this + " is not in HTTP mode: build it with http(true) to add HTTP faults");
    }
    return state.addRule(rule);
  }

  /**
   * Removes an HTTP fault rule: requests arriving afterwards no longer see it.
   *
   * @param fault a rule returned by {@link #addHttpFault}
   * @return true when it was installed in this proxy
   */
  public boolean removeHttpFault(HttpFault fault) {
    return state.removeRule(Objects.requireNonNull(fault, "fault"));
  }

  /**
   * The installed HTTP fault rules.
   *
   * @return an immutable list in the order they are tried
   */
  public List<HttpFault> httpFaults() {
    return state.rules();
  }

  /**
   * Switches every fault off: latency, bandwidth limits, the black hole, connection refusal, cut budgets and all HTTP
   * fault rules. Connections stay open.
   *
   * @return this proxy
   * @throws IllegalStateException when connections were refused and the port cannot be bound again
   */
  public FaultProxy clearFaults() {
    state.clear();
    if (refusing) {
      refuseConnections(false);
    }
    return this;
  }

  /**
   * A snapshot of the proxy's counters.
   *
   * @return counts since the proxy started
   */
  public Stats stats() {
    Counters c = state.counters;
    Map<HttpFault, Long> byRule = new LinkedHashMap<>();
    for (HttpFault fault : state.rules()) {
      byRule.put(fault, fault.matched());
    }
    return new Stats(
        c.accepted.sum(), connections.size(), c.refused.sum(), c.targetConnectFailures.sum(),
        c.reset.sum(), c.cut.sum(), c.failed.sum(),
        c.bytesUpstream.sum(), c.bytesDownstream.sum(), c.bytesBlackHoled.sum(), c.bytesDiscarded.sum(),
        c.httpRequests.sum(), c.httpFaultsInjected.sum(), byRule, c.httpPassthroughConnections.sum());
  }

  /**
   * Stops listening, resets every open connection, and waits up to five seconds for the proxy's threads to end.
   * Idempotent. Fault settings changed after closing are accepted and have no effect.
   */
  @Override
  public void close() {
    lifecycle.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      stopListening();
    } finally {
      lifecycle.unlock();
    }
    for (ProxyConnection connection : connections) {
      connection.close(ProxyConnection.Ending.PROXY_CLOSED);
    }
    // Connect threads may be waiting for the target, and black-hole waits are not tied to a socket.
    threads.forEach(Thread::interrupt);
    long deadline = System.nanoTime() + CLOSE_DEADLINE.toNanos();
    while (!threads.isEmpty() && System.nanoTime() - deadline < 0) {
      for (Thread thread : List.copyOf(threads)) {
        long left = deadline - System.nanoTime();
        try {
          if (left <= 0 || !thread.join(Duration.ofNanos(left))) {
            break;
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          LOG.warn("{}: interrupted while waiting for its threads to end", this);
          return;
        }
      }
    }
    if (!threads.isEmpty()) {
      LOG.warn("{}: {} threads still running {} after close", this, threads.size(), CLOSE_DEADLINE);
    }
  }

  /**
   * A short description for messages.
   *
   * @return e.g. {@code "fault proxy 's3' 127.0.0.1:40123 -> 127.0.0.1:9000 (http)"}
   */
  @Override
  public String toString() {
    return "fault proxy '" + name + "' " + loopback.getHostAddress() + ":" + port + " -> " + targetHost + ":"
        + targetPort + (http ? " (http)" : " (tcp)");
  }

  /** Threads started and not yet ended; for tests. */
  int liveThreads() {
    return threads.size();
  }

  private Thread startAcceptor(ServerSocket socket) {
    return startThread("hardway-fault-" + name + "-accept", () -> accept(socket));
  }

  /**
   * Closes the listening socket and waits for its acceptor to end. The wait matters: closing a socket that a virtual
   * thread is blocked on only marks it, and the kernel socket is released, so that connection attempts are refused
   * and the port can be bound again, once that thread has woken up.
   */
  private void stopListening() {
    ServerSocket current = listener;
    Thread accepting = acceptor;
    listener = null;
    acceptor = null;
    if (current != null) {
      closeQuietly(current);
    }
    if (accepting != null) {
      try {
        if (!accepting.join(CLOSE_DEADLINE)) {
          LOG.warn("{}: the acceptor did not stop within {}", this, CLOSE_DEADLINE);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void accept(ServerSocket socket) {
    while (true) {
      Socket client;
      try {
        client = socket.accept();
      } catch (IOException e) {
        if (socket.isClosed() || closed) {
          return;
        }
        // Out of file descriptors and the like: the listener stays, the next accept may succeed.
        LOG.warn("{}: accept failed", this, e);
        try {
          TimeUnit.MILLISECONDS.sleep(10);
        } catch (InterruptedException interrupted) {
          return;
        }
        continue;
      }
      state.counters.accepted.increment();
      if (closed || refusing) {
        // Accepted in the instant the listener was being closed: refuse it as the kernel would have.
        state.counters.refused.increment();
        ProxyConnection.closeSocket(client, true);
        continue;
      }
      long id = connectionIds.incrementAndGet();
      startThread("hardway-fault-" + name + "-" + id + "-connect", () -> connect(client, id));
    }
  }

  private void connect(Socket client, long id) {
    Socket server = new Socket();
    try {
      client.setTcpNoDelay(true);
      // Without TCP_NODELAY small writes wait for the peer's delayed ACK (Nagle), adding tens of milliseconds that
      // would blur the latency the test asked for.
      server.setTcpNoDelay(true);
      server.connect(new InetSocketAddress(targetHost, targetPort), (int) connectTimeout.toMillis());
    } catch (IOException e) {
      state.counters.targetConnectFailures.increment();
      LOG.debug("{}: cannot reach the target, closing connection {}", this, id, e);
      ProxyConnection.closeSocket(client, true);
      ProxyConnection.closeSocket(server, true);
      return;
    }
    ProxyConnection connection;
    try {
      connection = new ProxyConnection(
          "hardway-fault-" + name + "-" + id, state, client, server, http, connections::remove);
    } catch (IOException e) {
      // The client went away while the target was being reached.
      state.counters.failed.increment();
      LOG.debug("{}: connection {} closed before it started", this, id, e);
      ProxyConnection.closeSocket(client, true);
      ProxyConnection.closeSocket(server, true);
      return;
    }
    connections.add(connection);
    if (closed) {
      connection.close(ProxyConnection.Ending.PROXY_CLOSED);
      return;
    }
    connection.start(this::startThread);
  }

  private Thread startThread(String threadName, Runnable task) {
    Thread thread = Thread.ofVirtual().name(threadName).unstarted(() -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.warn("{}: thread {} failed", this, Thread.currentThread().getName(), e);
      } finally {
        threads.remove(Thread.currentThread());
      }
    });
    threads.add(thread);
    thread.start();
    return thread;
  }

  private static ServerSocket listen(InetAddress address, int port) throws IOException {
    ServerSocket socket = new ServerSocket();
    try {
      // Rebinding the same port after refuseConnections must not fail on connections still in TIME_WAIT.
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(address, port), 128);
      return socket;
    } catch (IOException e) {
      closeQuietly(socket);
      throw e;
    }
  }

  private static void closeQuietly(ServerSocket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // Nothing left to do.
    }
  }

  private static long requireDelay(String option, Duration value) {
    Objects.requireNonNull(value, option);
    if (value.isNegative() || value.compareTo(MAX_DELAY) > 0) {
      throw new IllegalArgumentException(option + " must be between 0 and 1 hour, got " + value);
    }
    return value.toNanos();
  }

  /**
   * An immutable snapshot of the proxy's counters, all counted since it started.
   *
   * @param connectionsAccepted connections accepted from the listening socket
   * @param connectionsOpen connections being proxied now
   * @param connectionsRefused connections accepted in the instant refusal was switched on, and reset at once;
   *     attempts the kernel refused while the port was closed never reach the proxy and are not counted
   * @param targetConnectFailures accepted connections closed (with a reset) because the target could not be reached
   * @param connectionsReset connections reset by {@link #resetConnections()}
   * @param connectionsCut connections reset because a {@link #cutAfter cutAfter} budget ran out
   * @param connectionsFailed connections ended by an I/O error on either side (a peer reset, a write to a closed
   *     peer), and reset on the other side
   * @param bytesUpstream bytes delivered to the target
   * @param bytesDownstream bytes delivered to clients
   * @param bytesBlackHoled bytes dropped by the black hole
   * @param bytesDiscarded other bytes read and never delivered: queued when a connection was reset or closed, beyond
   *     a cut budget or a truncation, requests the proxy answered itself and what clients sent after them
   * @param httpRequests HTTP request heads seen
   * @param httpFaultsInjected requests hit by an HTTP fault rule, removed rules included
   * @param httpFaultsByRule requests hit by each installed rule, in the order the rules are tried
   * @param httpPassthroughConnections connections that stopped being framed as HTTP/1.1 (upgrade, HTTP/2, TLS,
   *     unparseable) and were passed through untouched from then on
   */
  public record Stats(
      long connectionsAccepted,
      long connectionsOpen,
      long connectionsRefused,
      long targetConnectFailures,
      long connectionsReset,
      long connectionsCut,
      long connectionsFailed,
      long bytesUpstream,
      long bytesDownstream,
      long bytesBlackHoled,
      long bytesDiscarded,
      long httpRequests,
      long httpFaultsInjected,
      Map<HttpFault, Long> httpFaultsByRule,
      long httpPassthroughConnections) {

    /**
     * A snapshot; the per-rule map is copied.
     *
     * @param connectionsAccepted see the class description
     * @param connectionsOpen see the class description
     * @param connectionsRefused see the class description
     * @param targetConnectFailures see the class description
     * @param connectionsReset see the class description
     * @param connectionsCut see the class description
     * @param connectionsFailed see the class description
     * @param bytesUpstream see the class description
     * @param bytesDownstream see the class description
     * @param bytesBlackHoled see the class description
     * @param bytesDiscarded see the class description
     * @param httpRequests see the class description
     * @param httpFaultsInjected see the class description
     * @param httpFaultsByRule see the class description
     * @param httpPassthroughConnections see the class description
     */
    public Stats {
      httpFaultsByRule = Collections.unmodifiableMap(new LinkedHashMap<>(httpFaultsByRule));
    }
  }

  /**
   * Describes a {@link FaultProxy}. Setters validate at once and throw {@link IllegalArgumentException} naming the
   * option and the value received.
   *
   * <table>
   *   <caption>Options</caption>
   *   <tr><th>Option</th><th>Default</th><th>Meaning</th></tr>
   *   <tr><td>{@link #target target}</td><td>required</td><td>the server behind the proxy</td></tr>
   *   <tr><td>{@link #listenPort listenPort}</td><td>0</td><td>loopback port to listen on; 0 picks a free one</td></tr>
   *   <tr><td>{@link #name name}</td><td>{@code "proxy"}</td><td>for thread names and messages</td></tr>
   *   <tr><td>{@link #http http}</td><td>false</td><td>frame HTTP/1.1 and allow HTTP faults</td></tr>
   *   <tr><td>{@link #random random}</td><td>a new {@code SplittableRandom}</td><td>source of jitter and request
   *       IDs</td></tr>
   *   <tr><td>{@link #connectTimeout connectTimeout}</td><td>5 s</td><td>to reach the target</td></tr>
   *   <tr><td>{@link #chunkSize chunkSize}</td><td>16384</td><td>largest read, in bytes</td></tr>
   *   <tr><td>{@link #queueCapacity queueCapacity}</td><td>64</td><td>chunks queued per direction and
   *       connection</td></tr>
   * </table>
   */
  public static final class Builder {
    private @Nullable String targetHost;
    private int targetPort;
    private int listenPort;
    private String name = "proxy";
    private boolean http;
    private RandomGenerator random = new SplittableRandom();
    private Duration connectTimeout = Duration.ofSeconds(5);
    private int chunkSize = 16 * 1024;
    private int queueCapacity = 64;

    private Builder() { }

    /**
     * The server to forward to. Required.
     *
     * @param host a host name or address, e.g. {@code "127.0.0.1"}; resolved for every connection
     * @param port 1 to 65535
     * @return this builder
     * @throws IllegalArgumentException when the host is blank or the port out of range
     */
    public Builder target(String host, int port) {
      Objects.requireNonNull(host, "host");
      if (host.isBlank()) {
        throw new IllegalArgumentException("target host must not be blank, got \"" + host + "\"");
      }
      if (port < 1 || port > 65_535) {
        throw new IllegalArgumentException("target port must be 1..65535, got " + port);
      }
      this.targetHost = host;
      this.targetPort = port;
      return this;
    }

    /**
     * The loopback port to listen on.
     *
     * @param port 0 (the default) for a free port, or 1 to 65535
     * @return this builder
     * @throws IllegalArgumentException when the port is out of range
     */
    public Builder listenPort(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("listenPort must be 0..65535, got " + port);
      }
      this.listenPort = port;
      return this;
    }

    /**
     * A short name for thread names and messages.
     *
     * @param name letters, digits, {@code .}, {@code _} or {@code -}, e.g. {@code "s3"}
     * @return this builder
     * @throws IllegalArgumentException when the name is empty or has other characters
     */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
        throw new IllegalArgumentException(
            "name must be 1 to 64 letters, digits, '.', '_' or '-', got \"" + name + "\"");
      }
      this.name = name;
      return this;
    }

    /**
     * Whether to frame HTTP/1.1, which {@link FaultProxy#addHttpFault HTTP faults} need. Off by default: the proxy
     * then forwards bytes without looking at them.
     *
     * @param http true for the HTTP-aware mode
     * @return this builder
     */
    public Builder http(boolean http) {
      this.http = http;
      return this;
    }

    /**
     * The source of latency jitter and of injected responses' request IDs; pass a seeded generator for repeatable
     * runs. The proxy uses it under a lock, so it need not be thread-safe, but must not be used elsewhere meanwhile.
     *
     * @param random the generator
     * @return this builder
     */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * How long to wait for the target when a client connects; after that the client's connection is reset.
     *
     * @param timeout 1 ms to 10 minutes
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder connectTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "connectTimeout");
      if (timeout.toMillis() < 1 || timeout.compareTo(Duration.ofMinutes(10)) > 0) {
        throw new IllegalArgumentException("connectTimeout must be between 1 ms and 10 minutes, got " + timeout);
      }
      this.connectTimeout = timeout;
      return this;
    }

    /**
     * The largest read from a socket, and so the granularity of latency and of a {@code cutAfter}.
     *
     * @param bytes 512 to 1048576
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder chunkSize(int bytes) {
      if (bytes < 512 || bytes > 1 << 20) {
        throw new IllegalArgumentException("chunkSize must be 512..1048576 bytes, got " + bytes);
      }
      this.chunkSize = bytes;
      return this;
    }

    /**
     * How many chunks each direction of each connection may hold between reading and delivering; with the
     * {@link #chunkSize chunk size} this bounds the proxy's memory per connection. A full queue stops the reader,
     * which pushes back on the sender through TCP flow control: nothing is dropped.
     *
     * @param chunks 1 to 4096
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder queueCapacity(int chunks) {
      if (chunks < 1 || chunks > 4096) {
        throw new IllegalArgumentException("queueCapacity must be 1..4096 chunks, got " + chunks);
      }
      this.queueCapacity = chunks;
      return this;
    }

    /**
     * Binds the port and starts accepting connections.
     *
     * @return the running proxy; close it when done
     * @throws IllegalStateException when no target was set or the port cannot be bound
     */
    public FaultProxy start() {
      String host = targetHost;
      if (host == null) {
        throw new IllegalStateException("fault proxy '" + name + "': target(host, port) is required");
      }
      ServerSocket socket;
      try {
        socket = listen(InetAddress.getLoopbackAddress(), listenPort);
      } catch (IOException e) {
        throw new IllegalStateException("fault proxy '" + name + "' cannot listen on loopback port " + listenPort
            + ": " + e.getMessage(), e);
      }
      FaultProxy proxy = new FaultProxy(this, host, socket);
      proxy.lifecycle.lock();
      try {
        proxy.acceptor = proxy.startAcceptor(socket);
      } finally {
        proxy.lifecycle.unlock();
      }
      return proxy;
    }
  }
}
