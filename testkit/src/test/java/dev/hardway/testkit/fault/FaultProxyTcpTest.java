package dev.hardway.testkit.fault;

import static java.util.concurrent.TimeUnit.NANOSECONDS;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** TCP faults, each proven on and then off, through a real server over raw sockets. */
class FaultProxyTcpTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private static TcpTestServer echo;
  private static TcpTestServer generator;

  @BeforeAll
  static void startServers() throws IOException {
    echo = TcpTestServer.echo();
    generator = TcpTestServer.generator();
  }

  @AfterAll
  static void stopServers() throws IOException {
    echo.close();
    generator.close();
  }

  private static FaultProxy proxyTo(TcpTestServer server) {
    return FaultProxy.builder().target("127.0.0.1", server.port()).name("tcp").random(new SplittableRandom(7))
        .start();
  }

  private static Socket connect(FaultProxy proxy) throws IOException {
    Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
    socket.setTcpNoDelay(true);
    socket.setSoTimeout((int) WAIT.toMillis());
    return socket;
  }

  /** One byte there and back through the echo server. */
  private static long roundTripNanos(Socket socket) throws IOException {
    long start = System.nanoTime();
    socket.getOutputStream().write(42);
    assertEquals(42, socket.getInputStream().read());
    return System.nanoTime() - start;
  }

  private static long fastestRoundTripNanos(Socket socket, int tries) throws IOException {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < tries; i++) {
      best = Math.min(best, roundTripNanos(socket));
    }
    return best;
  }

  /** Asks the generator for this many bytes and checks them. */
  private static void download(Socket socket, int count) throws IOException {
    new DataOutputStream(socket.getOutputStream()).writeInt(count);
    byte[] received = socket.getInputStream().readNBytes(count);
    assertEquals(count, received.length, "bytes received");
    for (int i = 0; i < count; i++) {
      if (received[i] != TcpTestServer.pattern(i)) {
        throw new AssertionError("byte " + i + " differs");
      }
    }
  }

  private static long millis(long nanos) {
    return NANOSECONDS.toMillis(nanos);
  }

  @Test
  void forwardsBytesExactly_andPropagatesHalfClose() throws Exception {
    byte[] payload = new byte[1 << 20];
    new SplittableRandom(1).nextBytes(payload);
    try (FaultProxy proxy = proxyTo(echo); Socket socket = connect(proxy)) {
      CompletableFuture<Void> send = CompletableFuture.runAsync(() -> {
        try {
          socket.getOutputStream().write(payload);
          // The echo server answers the end of our stream with the end of its own: the FIN has to cross the proxy
          // both ways for the read below to end.
          socket.shutdownOutput();
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      byte[] echoed = socket.getInputStream().readAllBytes();
      send.get();
      assertArrayEquals(payload, echoed);
      await().atMost(WAIT).until(() -> proxy.stats().connectionsOpen() == 0);
      FaultProxy.Stats stats = proxy.stats();
      assertEquals(payload.length, stats.bytesUpstream());
      assertEquals(payload.length, stats.bytesDownstream());
      assertEquals(1, stats.connectionsAccepted());
      assertEquals(0, stats.bytesDiscarded());
    }
  }

  @Test
  void latency_delaysOpenAndNewConnections_untilSwitchedOff() throws IOException {
    try (FaultProxy proxy = proxyTo(echo); Socket early = connect(proxy)) {
      roundTripNanos(early);
      proxy.latency(Direction.DOWNSTREAM, Duration.ofMillis(200));
      assertTrue(millis(roundTripNanos(early)) >= 200, "an open connection sees the added latency");
      try (Socket late = connect(proxy)) {
        assertTrue(millis(roundTripNanos(late)) >= 200, "a new connection sees it too");
      }

      proxy.latency(Direction.BOTH, Duration.ofMillis(50), Duration.ofMillis(50));
      assertTrue(millis(roundTripNanos(early)) >= 100, "50 ms plus jitter each way adds at least 100 ms");

      proxy.latency(Direction.BOTH, Duration.ZERO);
      assertTrue(millis(fastestRoundTripNanos(early, 3)) < 100, "latency switched off");
    }
  }

  @Test
  void bandwidth_limitsTransfers_untilLifted() throws IOException {
    try (FaultProxy proxy = proxyTo(generator); Socket socket = connect(proxy)) {
      proxy.bandwidth(Direction.DOWNSTREAM, 128 * 1024);
      long start = System.nanoTime();
      download(socket, 256 * 1024);
      assertTrue(millis(System.nanoTime() - start) >= 1_000, "256 KiB at 128 KiB/s takes about 2 s");

      proxy.unlimitedBandwidth(Direction.DOWNSTREAM);
      start = System.nanoTime();
      download(socket, 256 * 1024);
      assertTrue(millis(System.nanoTime() - start) < 1_000, "the limit is lifted");
    }
  }

  @Test
  void blackHole_dropsBytesButKeepsConnectionsOpen_untilSwitchedOff() throws IOException {
    try (FaultProxy proxy = proxyTo(echo); Socket socket = connect(proxy)) {
      roundTripNanos(socket);
      proxy.blackHole(true);
      socket.setSoTimeout(300);
      socket.getOutputStream().write(new byte[] {1, 2, 3, 4});
      assertThrows(SocketTimeoutException.class, () -> socket.getInputStream().read());
      assertEquals(4, proxy.stats().bytesBlackHoled());
      assertEquals(1, proxy.stats().connectionsOpen());

      proxy.blackHole(false);
      socket.setSoTimeout((int) WAIT.toMillis());
      // The dropped bytes never reached the echo server, so the stream is still in step.
      assertTrue(roundTripNanos(socket) > 0);
    }
  }

  @Test
  void blackHole_holdsBackTheEndOfStream_untilSwitchedOff() throws IOException {
    try (FaultProxy proxy = proxyTo(echo); Socket socket = connect(proxy)) {
      roundTripNanos(socket);
      proxy.blackHole(true);
      socket.shutdownOutput();
      socket.setSoTimeout(300);
      assertThrows(SocketTimeoutException.class, () -> socket.getInputStream().read());

      proxy.blackHole(false);
      socket.setSoTimeout((int) WAIT.toMillis());
      assertEquals(-1, socket.getInputStream().read(), "the FIN crossed once the partition healed");
    }
  }

  @Test
  void refuseConnections_refusesNewOnes_keepsOpenOnes_thenListensOnTheSamePort() throws IOException {
    try (FaultProxy proxy = proxyTo(echo); Socket open = connect(proxy)) {
      roundTripNanos(open);
      int port = proxy.port();
      proxy.refuseConnections(true);
      assertThrows(ConnectException.class, () -> connect(proxy).close());
      assertTrue(roundTripNanos(open) > 0, "connections already open keep working");

      proxy.refuseConnections(false);
      assertEquals(port, proxy.port());
      try (Socket again = connect(proxy)) {
        assertTrue(roundTripNanos(again) > 0);
      }
    }
  }

  @Test
  void resetConnections_resetsOpenConnections_andNewOnesWork() throws IOException {
    try (FaultProxy proxy = proxyTo(echo); Socket first = connect(proxy); Socket second = connect(proxy)) {
      roundTripNanos(first);
      roundTripNanos(second);
      assertEquals(2, proxy.resetConnections());
      assertThrows(SocketException.class, () -> first.getInputStream().read());
      assertEquals(2, proxy.stats().connectionsReset());
      await().atMost(WAIT).until(() -> echo.openConnections() == 0);

      try (Socket after = connect(proxy)) {
        assertTrue(roundTripNanos(after) > 0, "a reset is one shot");
      }
    }
  }

  @Test
  void cutAfter_resetsConnectionsAfterTheirBudget_untilLifted() throws IOException {
    try (FaultProxy proxy = proxyTo(generator)) {
      proxy.cutAfter(Direction.DOWNSTREAM, 100_000);
      try (Socket socket = connect(proxy)) {
        new DataOutputStream(socket.getOutputStream()).writeInt(1 << 20);
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[8192];
        long[] received = {0};
        assertThrows(SocketException.class, () -> {
          int n;
          while ((n = in.read(buffer)) >= 0) {
            received[0] += n;
          }
        });
        assertTrue(received[0] <= 100_000, "at most the budget arrives, got " + received[0]);
      }
      assertEquals(1, proxy.stats().connectionsCut());

      try (Socket open = connect(proxy)) {
        download(open, 50_000);
        // Open connections count from the call: 50 000 bytes already went, 10 000 more are allowed.
        proxy.cutAfter(Direction.DOWNSTREAM, 10_000);
        new DataOutputStream(open.getOutputStream()).writeInt(20_000);
        byte[] got = open.getInputStream().readNBytes(10_000);
        assertEquals(10_000, got.length);
        assertThrows(SocketException.class, () -> open.getInputStream().read());
      }

      proxy.cutAfter(Direction.DOWNSTREAM, -1);
      try (Socket socket = connect(proxy)) {
        download(socket, 1 << 20);
      }
      assertEquals(2, proxy.stats().connectionsCut());
    }
  }

  @Test
  void unreachableTarget_closesTheAcceptedConnection_andIsCounted() throws IOException {
    int closedPort;
    try (ServerSocket unused = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = unused.getLocalPort();
    }
    try (FaultProxy proxy = FaultProxy.builder().target("127.0.0.1", closedPort).name("nowhere").start()) {
      for (int i = 1; i <= 2; i++) {
        try (Socket socket = connect(proxy)) {
          int read;
          try {
            read = socket.getInputStream().read();
          } catch (SocketException reset) {
            read = -1;
          }
          assertEquals(-1, read);
        }
        int expected = i;
        await().atMost(WAIT).until(() -> proxy.stats().targetConnectFailures() == expected);
      }
      assertEquals(0, proxy.stats().connectionsOpen());
    }
  }

  @Test
  void clearFaults_switchesEveryTcpFaultOff() throws IOException {
    try (FaultProxy proxy = proxyTo(echo); Socket open = connect(proxy)) {
      // Through the proxy's accept backlog first: a connection still waiting there when refusal starts is refused.
      roundTripNanos(open);
      proxy.latency(Direction.BOTH, Duration.ofSeconds(1))
          .bandwidth(Direction.BOTH, 10)
          .cutAfter(Direction.BOTH, 0)
          .blackHole(true)
          .refuseConnections(true)
          .clearFaults();
      assertTrue(millis(roundTripNanos(open)) < 1_000);
      try (Socket fresh = connect(proxy)) {
        assertTrue(millis(roundTripNanos(fresh)) < 1_000);
      }
      assertEquals(0, proxy.stats().connectionsCut());
    }
  }

  @Test
  void close_isIdempotent_closesConnections_andStopsEveryThread() throws IOException {
    FaultProxy proxy = proxyTo(echo);
    try (Socket socket = connect(proxy)) {
      roundTripNanos(socket);
      proxy.latency(Direction.DOWNSTREAM, Duration.ofMinutes(1));
      OutputStream out = socket.getOutputStream();
      out.write(1);
      proxy.blackHole(true);
      out.write(2);
      proxy.close();
      assertEquals(0, proxy.liveThreads());
      assertEquals(0, proxy.stats().connectionsOpen());
      assertThrows(SocketException.class, () -> socket.getInputStream().read());
      assertThrows(ConnectException.class, () -> connect(proxy).close());
      proxy.close();
      proxy.refuseConnections(false);
      assertThrows(ConnectException.class, () -> connect(proxy).close(), "a closed proxy does not listen again");
    }
  }
}
