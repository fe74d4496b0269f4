package dev.hardway.credentials;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Talks to a running {@link CredentialsAgent} over its owner-only Unix domain socket: one command line out, one
 * reply back.
 */
public final class ControlClient {
  private ControlClient() {}

  /**
   * Sends one command.
   *
   * @param socket the agent's control socket
   * @param command the command and its arguments, e.g. {@code ["use", "prod/admin"]}
   * @return the reply
   * @throws UncheckedIOException when no agent listens there
   * @throws IllegalArgumentException when an argument holds white space or a line break
   */
  public static ControlReply call(Path socket, List<String> command) {
    for (String a : command) {
      if (a.isEmpty() || a.chars().anyMatch(c -> c <= ' ')) {
        throw new IllegalArgumentException("control arguments must be non-empty without spaces or control "
            + "characters, got " + Printable.quote(a));
      }
    }
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ch.write(ByteBuffer.wrap((String.join(" ", command) + "\n").getBytes(StandardCharsets.UTF_8)));
      ch.shutdownOutput();
      InputStream in = Channels.newInputStream(ch);
      String reply = new String(in.readNBytes(CredentialsAgent.MAX_REPLY), StandardCharsets.UTF_8);
      int nl = reply.indexOf('\n');
      String status = nl < 0 ? reply : reply.substring(0, nl);
      String text = nl < 0 ? "" : reply.substring(nl + 1);
      return new ControlReply(status.equals("ok"), text.stripTrailing());
    } catch (IOException e) {
      throw new UncheckedIOException("no Hardway credentials agent answers on " + socket + " (" + e.getMessage()
          + "); start one with: hardway-credentials agent", e);
    }
  }
}
