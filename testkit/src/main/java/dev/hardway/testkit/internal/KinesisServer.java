package dev.hardway.testkit.internal;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * kinesis-mock (npm {@code kinesis-local}) as a {@code node} child process, installed on first use by
 * {@link KinesisInstall}. It dies with this JVM ({@link ChildProcess}).
 */
public final class KinesisServer implements AutoCloseable {

  private final ChildProcess process;
  private final String host;
  private final int port;

  private KinesisServer(ChildProcess process, String host, int port) {
    this.process = process;
    this.host = host;
    this.port = port;
  }

  /**
   * Installs (if needed) and starts kinesis-mock.
   *
   * @param host the address to listen on (kinesis-mock has no such setting; a preload script provides it)
   * @param port the HTTP port, 0 for a free one
   * @param region the default region
   * @param accountId the default account
   * @param operationDelay how long stream operations take to settle (CreateStream → ACTIVE, …)
   * @param timeout how long to wait for it to listen
   * @return the running server
   * @throws IllegalStateException when Node.js is missing, the install fails, or the server does not start
   */
  public static KinesisServer start(String host, int port, String region, String accountId, Duration operationDelay,
      Duration timeout) {
    Path dir = KinesisInstall.ensureInstalled();
    String preload = KinesisInstall.loopbackPreload(dir).toString();
    IllegalStateException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int plain = port != 0 ? port : Ports.pickFree(host);
      int tls = Ports.pickFree(host);
      ChildProcess process = ChildProcess.start("kinesis", List.of("node", "--require", preload, "main.js"), dir,
          KinesisInstall.environment(host, plain, tls, region, accountId, operationDelay));
      if (Ports.awaitListening(host, plain, timeout, process::isAlive)) {
        return new KinesisServer(process, host, plain);
      }
      process.close();
      last = new IllegalStateException("kinesis-mock did not listen on " + host + ":" + plain + " within " + timeout
          + "; its output:\n" + process.outputTail());
      if (port != 0) {
        break;
      }
    }
    throw Objects.requireNonNull(last);
  }

  /**
   * The endpoint.
   *
   * @return {@code http://host:port}
   */
  public URI endpoint() {
    return URI.create("http://" + host + ":" + port);
  }

  /**
   * The port.
   *
   * @return the HTTP port
   */
  public int port() {
    return port;
  }

  /**
   * The child process, for tests that check it dies with the JVM.
   *
   * @return the process
   */
  public ChildProcess process() {
    return process;
  }

  /** Stops kinesis-mock. */
  @Override
  public void close() {
    process.close();
  }

  @Override
  public String toString() {
    return "KinesisServer[" + endpoint() + ", " + process + "]";
  }
}
