package dev.hardway.testkit.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * kinesis-mock (npm {@code kinesis-local}) as a {@code node} child process, installed on first use by
 * {@link KinesisInstall}. It dies with this JVM ({@link ChildProcess}).
 */
public final class KinesisServer {

  private KinesisServer() {}

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
  public static ChildServer start(String host, int port, String region, String accountId, Duration operationDelay,
      Duration timeout) {
    Path dir = KinesisInstall.ensureInstalled();
    String preload = KinesisInstall.loopbackPreload(dir).toString();
    // kinesis-mock always opens a TLS port as well; it gets a free one of its own.
    return ChildServer.start("kinesis", "http", null, host, port,
        p -> List.of("node", "--require", preload, "main.js"), dir,
        p -> KinesisInstall.environment(host, p, Ports.pickFree(host), region, accountId, operationDelay), timeout);
  }
}
