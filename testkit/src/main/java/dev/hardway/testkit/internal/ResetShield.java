package dev.hardway.testkit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP relay in front of a server that cannot take a client's reset. kinesis-mock (fs2 on Node.js) closes its
 * listening socket for good when any client connection is reset (RST), even an idle one: an SDK call abandoned at its
 * timeout, or a fault proxy resetting connections, then leaves the whole stack without Kinesis. The relay passes
 * bytes both ways unchanged, but toward the server it only ever ends a connection gracefully: when the client goes
 * (closed or reset), the relay half-closes the server side (FIN), reads and discards what the server still sends
 * until it closes, and only then closes its socket, so the server never sees a reset.
 */
final class ResetShield implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ResetShield.class);
  /** How long the relay waits for the server to finish after the client went, before it gives up on it. */
  private static final int DRAIN_MILLIS = 60_000;

  private final ServerSocket server;
  private final String name;
  private final InetSocketAddress target;
  private final Thread acceptor;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicLong clientResets = new AtomicLong();
  private volatile boolean closed;

  private ResetShield(ServerSocket server, String name, InetSocketAddress target) {
    this.server = server;
    this.name = name;
    this.target = target;
    this.acceptor = Thread.ofPlatform().daemon().name("hardway-" + name + "-shield").unstarted(this::accept);
  }

  /**
   * Listens on {@code host:port} and relays every connection to {@code targetHost:targetPort}.
   *
   * @param name a short name for threads and logs
   * @param host the address to listen on
   * @param port the port, 0 for a free one
   * @param targetHost the server's address
   * @param targetPort the server's port
   * @return the running relay
   * @throws IllegalStateException when the port cannot be bound
   */
  static ResetShield start(String name, String host, int port, String targetHost, int targetPort) {
    try {
      ServerSocket s = new ServerSocket();
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getByName(host), port), 512);
      ResetShield shield = new ResetShield(s, name, new InetSocketAddress(targetHost, targetPort));
      shield.acceptor.start();
      return shield;
    } catch (IOException e) {
      throw new IllegalStateException("cannot listen on " + host + ":" + port + " for " + name + ": " + e, e);
    }
  }

  int port() {
    return server.getLocalPort();
  }

  /** Client connections that ended with a reset (the server saw a graceful close instead). */
  long clientResets() {
    return clientResets.get();
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("{} relay stopped accepting: {}", name, e.toString());
        }
        return;
      }
      Thread.ofVirtual().name("hardway-" + name + "-relay").start(() -> relay(client));
    }
  }

  private void relay(Socket client) {
    open.add(client);
    try (Socket upstream = new Socket()) {
      open.add(upstream);
      try {
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        upstream.connect(target, 5_000);
      } catch (IOException e) {
        // The server is not there: the client sees its connection closed.
        closeQuietly(client);
        return;
      }
      Thread toServer = Thread.ofVirtual().name("hardway-" + name + "-relay-up").start(() -> {
        boolean reset = pump(inputOf(client), outputOf(upstream));
        if (reset) {
          clientResets.incrementAndGet();
        }
        halfClose(upstream);
      });
      // Toward the client until the server closes; once the client is gone, the rest is read and dropped.
      try {
        upstream.setSoTimeout(0);
        InputStream in = upstream.getInputStream();
        OutputStream out = client.getOutputStream();
        byte[] buf = new byte[16 * 1024];
        boolean clientGone = false;
        for (int n; (n = in.read(buf)) >= 0; ) {
          if (!clientGone) {
            try {
              out.write(buf, 0, n);
              out.flush();
            } catch (IOException e) {
              clientGone = true;
              halfClose(upstream);
              upstream.setSoTimeout(DRAIN_MILLIS);
            }
          }
        }
        try {
          client.shutdownOutput();
        } catch (IOException e) {
          // The client is gone.
        }
      } catch (SocketTimeoutException e) {
        LOG.debug("{} relay: the server did not close within {} ms after its client went", name, DRAIN_MILLIS);
      } catch (IOException e) {
        // The server reset or the relay closed: nothing more to relay.
      }
      try {
        toServer.join(DRAIN_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      open.remove(upstream);
    } catch (IOException e) {
      // Closing the upstream socket failed: nothing to do.
    } finally {
      closeQuietly(client);
      open.remove(client);
    }
  }

  /** Copies until the end of the input; true when the input ended with an error (a reset) rather than an EOF. */
  private static boolean pump(InputStream in, OutputStream out) {
    if (in == null || out == null) {
      return true;
    }
    byte[] buf = new byte[16 * 1024];
    try {
      for (int n; (n = in.read(buf)) >= 0; ) {
        out.write(buf, 0, n);
        out.flush();
      }
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  /** Sends the server a FIN, once (the two directions may both get here). */
  private static void halfClose(Socket upstream) {
    synchronized (upstream) {
      if (!upstream.isOutputShutdown() && !upstream.isClosed()) {
        try {
          upstream.shutdownOutput();
        } catch (IOException e) {
          // Already gone.
        }
      }
    }
  }

  private static InputStream inputOf(Socket s) {
    try {
      return s.getInputStream();
    } catch (IOException e) {
      return null;
    }
  }

  private static OutputStream outputOf(Socket s) {
    try {
      return s.getOutputStream();
    } catch (IOException e) {
      return null;
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // Nothing to do.
    }
  }

  /** Stops listening and closes every relayed connection (the server is going away too). */
  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // Nothing to do.
    }
    for (Socket s : open) {
      closeQuietly(s);
    }
    try {
      acceptor.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return name + " relay on port " + port() + " to " + target.getPort();
  }
}
