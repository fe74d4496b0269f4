package dev.hardway.testkit.internal;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntFunction;
import org.jspecify.annotations.Nullable;

/**
 * A server run as a {@link ChildProcess} that cannot bind port 0 itself: it is given a free port, and is started
 * again on another one (up to three times) when it does not listen, since another process may take a picked port
 * first.
 */
public final class ChildServer implements AutoCloseable {

  private static final int ATTEMPTS = 3;

  private final ChildProcess process;
  private final int port;
  private final URI endpoint;

  private ChildServer(ChildProcess process, int port, URI endpoint) {
    this.process = process;
    this.port = port;
    this.endpoint = endpoint;
  }

  /**
   * Starts a server and waits until it accepts connections.
   *
   * @param name a short name for logs and messages
   * @param scheme the endpoint's scheme, e.g. {@code redis}
   * @param userInfo the endpoint's user info (e.g. {@code :password}), or null
   * @param host the address the server listens on
   * @param port a fixed port, or 0 to pick free ones
   * @param command the command for a given port
   * @param workDir the working directory
   * @param environment extra environment variables for a given port
   * @param timeout how long to wait for it to listen, per attempt
   * @return the running server
   * @throws IllegalStateException with the server's last output when it does not start
   */
  public static ChildServer start(String name, String scheme, @Nullable String userInfo, String host, int port,
      IntFunction<List<String>> command, Path workDir, IntFunction<Map<String, String>> environment,
      Duration timeout) {
    IllegalStateException last = null;
    for (int attempt = 0; attempt < (port != 0 ? 1 : ATTEMPTS); attempt++) {
      int p = port != 0 ? port : Ports.pickFree(host);
      ChildProcess process = ChildProcess.start(name, command.apply(p), workDir, environment.apply(p));
      if (Ports.awaitListening(host, p, timeout, process::isAlive)) {
        URI endpoint = URI.create(scheme + "://" + (userInfo != null ? userInfo + "@" : "") + host + ":" + p);
        return new ChildServer(process, p, endpoint);
      }
      process.close();
      last = new IllegalStateException(name + " did not listen on " + host + ":" + p + " within " + timeout
          + "; its output:\n" + process.outputTail());
    }
    throw Objects.requireNonNull(last);
  }

  /**
   * The endpoint.
   *
   * @return {@code scheme://[userinfo@]host:port}
   */
  public URI endpoint() {
    return endpoint;
  }

  /**
   * The port.
   *
   * @return the port the server listens on
   */
  public int port() {
    return port;
  }

  /** Stops the server. */
  @Override
  public void close() {
    process.close();
  }

  @Override
  public String toString() {
    return "ChildServer[" + endpoint + ", " + process + "]";
  }
}
