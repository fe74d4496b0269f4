package dev.hardway.testkit.internal;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * kinesis-mock (npm {@code kinesis-local}) as a {@code node} child process, installed on first use by
 * {@link KinesisInstall}. It dies with this JVM ({@link ChildProcess}). Clients reach it through a
 * {@link ResetShield}: kinesis-mock stops listening for good when a client resets a connection.
 */
public final class KinesisServer implements AutoCloseable {
  private final ChildServer child;
  private final ResetShield shield;
  private final URI endpoint;

  private KinesisServer(ChildServer child, ResetShield shield, String host) {
    this.child = child;
    this.shield = shield;
    this.endpoint = URI.create("http://" + host + ":" + shield.port());
  }

  /**
   * Installs (if needed) and starts kinesis-mock.
   *
   * @param host the address to listen on (kinesis-mock has no such setting; a preload script provides it)
   * @param port the HTTP port clients use (the relay's), 0 for a free one
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
    // kinesis-mock listens on a private port (and always opens a TLS port as well, on a free one of its own).
    ChildServer child = ChildServer.start("kinesis", "http", null, host, 0,
        p -> List.of("node", "--require", preload, "main.js"), dir,
        p -> KinesisInstall.environment(host, p, Ports.pickFree(host), region, accountId, operationDelay), timeout);
    try {
      return new KinesisServer(child, ResetShield.start("kinesis", host, port, host, child.port()), host);
    } catch (RuntimeException e) {
      child.close();
      throw e;
    }
  }

  /**
   * The endpoint clients use.
   *
   * @return {@code http://host:port} of the relay
   */
  public URI endpoint() {
    return endpoint;
  }

  /**
   * The port clients use.
   *
   * @return the relay's port
   */
  public int port() {
    return shield.port();
  }

  /**
   * Client connections that ended with a reset, which the relay kept from kinesis-mock.
   *
   * @return the count
   */
  public long clientResets() {
    return shield.clientResets();
  }

  /** Stops the relay and kinesis-mock. */
  @Override
  public void close() {
    try {
      shield.close();
    } finally {
      child.close();
    }
  }

  @Override
  public String toString() {
    return "KinesisServer[" + endpoint + " -> " + child + "]";
  }
}
