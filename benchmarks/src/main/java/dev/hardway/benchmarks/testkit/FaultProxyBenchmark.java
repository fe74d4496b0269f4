package dev.hardway.benchmarks.testkit;

import dev.hardway.testkit.fault.FaultProxy;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the fault proxy costs when no fault is on: a request/response round trip over loopback TCP to an echo server,
 * through the proxy ({@code viaProxy}) and directly ({@code direct}, the baseline), for a small and a large message.
 * Tests put the proxy in front of every service they break, so its pass-through cost is what every such test pays.
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl benchmarks exec:exec
 * -Dbench.args="FaultProxyBenchmark -prof gc"}. Results are in {@code benchmarks/README.md}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class FaultProxyBenchmark {

  @Param({"64", "16384"})
  int size;

  private ServerSocket echo;
  private Thread echoThread;
  private FaultProxy proxy;
  private Socket direct;
  private Socket proxied;
  private byte[] message;
  private byte[] reply;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    echo = new ServerSocket();
    echo.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    echoThread = Thread.ofPlatform().daemon().start(this::serveEcho);
    proxy = FaultProxy.builder().target("127.0.0.1", echo.getLocalPort()).name("bench").start();
    direct = connect(echo.getLocalPort());
    proxied = connect(proxy.port());
    message = new byte[size];
    reply = new byte[size];
  }

  private static Socket connect(int port) throws IOException {
    Socket s = new Socket();
    s.setTcpNoDelay(true);
    s.connect(new InetSocketAddress("127.0.0.1", port));
    return s;
  }

  private void serveEcho() {
    while (!echo.isClosed()) {
      try {
        Socket s = echo.accept();
        s.setTcpNoDelay(true);
        Thread.ofPlatform().daemon().start(() -> {
          byte[] buf = new byte[64 * 1024];
          try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) > 0) {
              out.write(buf, 0, n);
            }
          } catch (IOException closed) {
            // the benchmark is over
          }
        });
      } catch (IOException closed) {
        return;
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    direct.close();
    proxied.close();
    proxy.close();
    echo.close();
    echoThread.join(2_000);
  }

  @Benchmark
  public byte[] direct() throws IOException {
    return roundTrip(direct);
  }

  @Benchmark
  public byte[] viaProxy() throws IOException {
    return roundTrip(proxied);
  }

  private byte[] roundTrip(Socket socket) throws IOException {
    socket.getOutputStream().write(message);
    new DataInputStream(socket.getInputStream()).readFully(reply);
    return reply;
  }
}
