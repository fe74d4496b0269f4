package dev.hardway.testkit.fault;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A small server over raw sockets for byte-exact proxy tests, one virtual thread per connection.
 *
 * <ul>
 *   <li>echo: sends back every byte it reads; half-closes when the client does.
 *   <li>generator: reads a 4-byte big-endian count, answers with that many bytes of {@link #pattern(long)}, repeats
 *       until the client closes.
 * </ul>
 */
final class TcpTestServer implements AutoCloseable {

  private interface Handler {
    void serve(Socket socket) throws IOException;
  }

  private final ServerSocket listener;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;

  private TcpTestServer(Handler handler) throws IOException {
    listener = new ServerSocket();
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    acceptor = Thread.ofVirtual().name("tcp-test-server-accept").start(() -> {
      while (!listener.isClosed()) {
        try {
          Socket socket = listener.accept();
          socket.setTcpNoDelay(true);
          open.add(socket);
          Thread.ofVirtual().name("tcp-test-server-conn").start(() -> {
            try (socket) {
              handler.serve(socket);
            } catch (IOException e) {
              // The client went away.
            } finally {
              open.remove(socket);
            }
          });
        } catch (IOException e) {
          return;
        }
      }
    });
  }

  static TcpTestServer echo() throws IOException {
    return new TcpTestServer(socket -> {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      byte[] buffer = new byte[8192];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        out.write(buffer, 0, n);
      }
      socket.shutdownOutput();
    });
  }

  static TcpTestServer generator() throws IOException {
    return new TcpTestServer(socket -> {
      DataInputStream in = new DataInputStream(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      byte[] buffer = new byte[8192];
      while (true) {
        int count;
        try {
          count = in.readInt();
        } catch (EOFException e) {
          return;
        }
        long position = 0;
        while (position < count) {
          int n = (int) Math.min(buffer.length, count - position);
          for (int i = 0; i < n; i++) {
            buffer[i] = pattern(position + i);
          }
          out.write(buffer, 0, n);
          position += n;
        }
      }
    });
  }

  /** The generator's byte at a position. */
  static byte pattern(long position) {
    return (byte) (position * 31 + 7);
  }

  int port() {
    return listener.getLocalPort();
  }

  int openConnections() {
    return open.size();
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Socket socket : open) {
      socket.close();
    }
    try {
      acceptor.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
