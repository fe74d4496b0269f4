package dev.hardway.testkit.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

/** Free-port picking and readiness checks for servers that cannot bind port 0 themselves. */
public final class Ports {

  private Ports() {}

  /**
   * A port that was free a moment ago on the given address. Another process may take it before the server binds it;
   * callers that start servers retry with a new port when the bind fails.
   *
   * @param host the address to check
   * @return a free port
   */
  public static int pickFree(String host) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free port on " + host, e);
    }
  }

  /**
   * Waits until a TCP connection to the address succeeds.
   *
   * @param host the host
   * @param port the port
   * @param timeout how long to keep trying
   * @param stillStarting checked between attempts; when it turns false (e.g. the process died) waiting stops
   * @return true when a connection succeeded, false on timeout or when {@code stillStarting} turned false
   */
  public static boolean awaitListening(String host, int port, Duration timeout, java.util.function.BooleanSupplier stillStarting) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pauseMillis = 10;
    while (System.nanoTime() < deadline) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(host, port), 250);
        return true;
      } catch (IOException notYet) {
        if (!stillStarting.getAsBoolean()) {
          return false;
        }
        try {
          Thread.sleep(pauseMillis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
        pauseMillis = Math.min(100, pauseMillis * 2);
      }
    }
    return false;
  }
}
