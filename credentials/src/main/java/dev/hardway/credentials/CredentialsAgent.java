package dev.hardway.credentials;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.jspecify.annotations.Nullable;

/**
 * The workstation agent: a {@link RoleBroker} and a {@link MetadataServer}, steered through a control socket that
 * only its owner can use — a Unix domain socket in a directory of mode 0700, the socket itself 0600, and each
 * connection's peer user checked with {@code SO_PEERCRED} (Linux, macOS).
 *
 * <p>Commands: {@code use <role> [<mfa-code>]}, {@code me}, {@code status}, {@code console [<destination>]},
 * {@code session <role>} (a container-credentials session for one process), {@code end-session <token>}.
 *
 * <p>Thread-safe; {@link #close()} stops the control listener and removes the socket. The broker and the metadata
 * server stay the caller's.
 */
public final class CredentialsAgent implements AutoCloseable {
  static final int MAX_REPLY = 64 * 1024;
  private static final int MAX_COMMAND = 4096;
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
  private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> SOCKET_MODE = PosixFilePermissions.fromString("rw-------");

  private final RoleBroker broker;
  private final MetadataServer metadata;
  private final @Nullable ConsoleSignIn console;
  private final Path socket;
  private final String controlUser;
  private final ServerSocketChannel listener;
  private final Thread acceptor;
  private final ScheduledExecutorService deadlines;
  private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
  private final LongAdder refusedPeers = new LongAdder();
  private volatile boolean closed;

  private CredentialsAgent(Builder b) throws IOException {
    this.broker = Objects.requireNonNull(b.broker);
    this.metadata = Objects.requireNonNull(b.metadata);
    this.console = b.console;
    this.socket = b.socket.toAbsolutePath();
    this.controlUser = b.controlUser;
    prepareDirectory(socket.getParent());
    removeStaleSocket(socket);
    ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    ch.bind(UnixDomainSocketAddress.of(socket));
    Files.setPosixFilePermissions(socket, SOCKET_MODE);
    this.listener = ch;
    this.deadlines = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("hardway-agent-deadlines").factory());
    this.acceptor = Thread.ofPlatform().daemon().name("hardway-agent-control").unstarted(this::acceptLoop);
    acceptor.start();
  }

  /**
   * Starts an agent.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Where the control socket is by default: {@code $XDG_RUNTIME_DIR/hardway/credentials.sock} when that variable is
   * set, else {@code ~/.hardway/credentials.sock}.
   *
   * @return the path
   */
  public static Path defaultControlSocket() {
    String runtime = System.getenv("XDG_RUNTIME_DIR");
    Path dir = runtime != null && !runtime.isBlank() ? Path.of(runtime, "hardway")
        : Path.of(System.getProperty("user.home"), ".hardway");
    return dir.resolve("credentials.sock");
  }

  /**
   * The control socket.
   *
   * @return its path
   */
  public Path controlSocket() {
    return socket;
  }

  /**
   * Control connections refused because their peer was another user.
   *
   * @return the count
   */
  public long refusedPeers() {
    return refusedPeers.sum();
  }

  private static void prepareDirectory(Path dir) throws IOException {
    if (Files.notExists(dir, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
      Files.setPosixFilePermissions(dir, DIR_MODE);
    }
    if (Files.isSymbolicLink(dir)) {
      throw new IllegalStateException("the control socket's directory " + dir + " is a symbolic link; refusing it");
    }
    String owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName();
    String me = System.getProperty("user.name");
    if (!owner.equals(me)) {
      throw new IllegalStateException("the control socket's directory " + dir + " belongs to " + owner + ", not to "
          + me + "; refusing it");
    }
    Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
    if (!mode.equals(DIR_MODE)) {
      throw new IllegalStateException("the control socket's directory " + dir + " has mode "
          + PosixFilePermissions.toString(mode) + "; it must be rwx------ (chmod 700 " + dir + ")");
    }
  }

  private static void removeStaleSocket(Path socket) throws IOException {
    if (Files.notExists(socket, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      probe.connect(UnixDomainSocketAddress.of(socket));
      throw new IllegalStateException("an agent already listens on " + socket + "; stop it first");
    } catch (IOException refused) {
      // Nobody listens: a socket left by an agent that died.
      Files.delete(socket);
    }
  }

  private void acceptLoop() {
    while (!closed) {
      SocketChannel ch;
      try {
        ch = listener.accept();
      } catch (IOException e) {
        if (closed) {
          return;
        }
        continue;
      }
      open.add(ch);
      Thread.ofVirtual().name("hardway-agent-command").start(() -> serve(ch));
    }
  }

  private void serve(SocketChannel ch) {
    ScheduledFuture<?> deadline = deadlines.schedule(() -> closeQuietly(ch), COMMAND_TIMEOUT.toMillis(),
        TimeUnit.MILLISECONDS);
    try (ch) {
      String peer = peerUser(ch);
      // Read the command even from a refused peer: closing with unread input resets the connection, and the
      // refusal would never arrive.
      String line = readLine(ch);
      if (peer != null && !peer.equals(controlUser)) {
        refusedPeers.increment();
        reply(ch, new ControlReply(false, "refused: this agent answers only " + controlUser + ", not " + peer));
        return;
      }
      if (line == null) {
        reply(ch, new ControlReply(false, "a command is one line of at most " + MAX_COMMAND + " bytes"));
        return;
      }
      reply(ch, execute(Arrays.asList(line.strip().split(" +"))));
    } catch (IOException e) {
      // The client went away.
    } finally {
      deadline.cancel(false);
      open.remove(ch);
    }
  }

  private static @Nullable String peerUser(SocketChannel ch) {
    try {
      UnixDomainPrincipal p = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
      return p.user().getName();
    } catch (UnsupportedOperationException | IOException e) {
      // No peer credentials on this platform: the directory and socket modes are the only check.
      return null;
    }
  }

  private static @Nullable String readLine(SocketChannel ch) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(MAX_COMMAND + 1);
    while (buf.hasRemaining()) {
      int n = ch.read(buf);
      if (n < 0) {
        break;
      }
      for (int i = buf.position() - n; i < buf.position(); i++) {
        if (buf.get(i) == '\n') {
          return new String(buf.array(), 0, i, StandardCharsets.UTF_8);
        }
      }
    }
    return null;
  }

  private static void reply(SocketChannel ch, ControlReply r) throws IOException {
    byte[] bytes = ((r.ok() ? "ok" : "error") + "\n" + r.text() + "\n").getBytes(StandardCharsets.UTF_8);
    ByteBuffer buf = ByteBuffer.wrap(bytes, 0, Math.min(bytes.length, MAX_REPLY));
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  /**
   * Runs one control command, as the control socket does.
   *
   * @param args the command and its arguments
   * @return the reply
   */
  ControlReply execute(List<String> args) {
    try {
      return switch (args.get(0)) {
        case "use" -> args.size() == 2 || args.size() == 3
            ? using(broker.use(args.get(1), args.size() == 3 ? args.get(2) : null))
            : usage("use <role> [<mfa-code>]");
        case "me" -> args.size() == 1 ? using(broker.me()) : usage("me");
        case "status" -> args.size() == 1 ? new ControlReply(true, status()) : usage("status");
        case "console" -> args.size() <= 2 ? console(args.size() == 2 ? args.get(1) : null)
            : usage("console [<destination-url>]");
        case "session" -> args.size() == 2 ? session(args.get(1)) : usage("session <role>");
        case "end-session" -> args.size() == 2 ? endSession(args.get(1)) : usage("end-session <token>");
        default -> new ControlReply(false, "unknown command " + Printable.quote(args.get(0))
            + "; commands: use, me, status, console, session, end-session");
      };
    } catch (CredentialsException | IllegalArgumentException | IllegalStateException e) {
      return new ControlReply(false, e.getMessage());
    }
  }

  private static ControlReply usage(String form) {
    return new ControlReply(false, "usage: " + form);
  }

  private static ControlReply using(RoleCredentials c) {
    return new ControlReply(true, "now using " + c.roleArn() + " (credentials expire at " + c.expiration() + ")");
  }

  private String status() {
    BrokerStatus s = broker.status();
    MetadataStats m = metadata.stats();
    StringBuilder sb = new StringBuilder();
    sb.append("user:              ").append(s.user()).append('\n');
    sb.append("current role:      ").append(s.currentRoleArn() == null ? "(default, not chosen yet)"
        : s.currentRoleArn()).append('\n');
    sb.append("metadata endpoint: ").append(metadata.endpoint()).append('\n');
    sb.append("sts calls:         ").append(s.stsCalls()).append(" (").append(s.stsFailures()).append(" failed)\n");
    sb.append("served:            ").append(m.credentialsServed()).append(" credential documents, ")
        .append(m.requests()).append(" requests, ").append(m.unauthorized() + m.forbidden())
        .append(" refused\n");
    for (BrokerStatus.RoleStatus r : s.roles()) {
      sb.append("role ").append(r.roleArn()).append(": ");
      sb.append(r.expiration() == null ? "no credentials" : "expires " + r.expiration());
      sb.append(", refresh at ").append(r.refreshAt().equals(java.time.Instant.MAX) ? "-" : r.refreshAt());
      if (r.mfaBound()) {
        sb.append(", MFA-bound (renew with use <role> <code>)");
      }
      if (r.lastError() != null) {
        sb.append(", ").append(r.consecutiveFailures()).append(" failure(s), last: ").append(r.lastError());
      }
      sb.append('\n');
    }
    return sb.toString().stripTrailing();
  }

  private ControlReply console(@Nullable String destination) {
    if (console == null) {
      return new ControlReply(false, "console sign-in is not configured in this agent");
    }
    // The URL goes to the owner over the socket, and nowhere else: it is a bearer credential.
    if (destination == null) {
      return new ControlReply(true, console.signInUrl(broker.currentCredentials().toSdk()).toString());
    }
    try (ConsoleSignIn c = console.toBuilder().destination(java.net.URI.create(destination)).build()) {
      return new ControlReply(true, c.signInUrl(broker.currentCredentials().toSdk()).toString());
    }
  }

  private ControlReply session(String role) {
    ContainerSession s = metadata.openContainerSession(role);
    return new ControlReply(true, "AWS_CONTAINER_CREDENTIALS_FULL_URI=" + s.fullUri() + "\n"
        + "AWS_CONTAINER_AUTHORIZATION_TOKEN=" + s.authorizationToken() + "\n"
        + "ROLE_ARN=" + s.roleArn());
  }

  private ControlReply endSession(String token) {
    return metadata.closeContainerSession(token)
        ? new ControlReply(true, "session closed") : new ControlReply(false, "no such session");
  }

  private static void closeQuietly(SocketChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // Best effort.
    }
  }

  /** Stops the control listener and removes its socket; idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // Already closed.
    }
    open.forEach(CredentialsAgent::closeQuietly);
    deadlines.shutdownNow();
    try {
      Files.deleteIfExists(socket);
    } catch (IOException ignored) {
      // A stale socket is removed by the next agent.
    }
  }

  @Override
  public String toString() {
    return "CredentialsAgent[" + socket + ", " + metadata.endpoint() + "]";
  }

  /** Builds a {@link CredentialsAgent}. */
  public static final class Builder {
    private @Nullable RoleBroker broker;
    private @Nullable MetadataServer metadata;
    private @Nullable ConsoleSignIn console;
    private Path socket = defaultControlSocket();
    private String controlUser = System.getProperty("user.name");

    private Builder() {}

    /**
     * The broker that {@code use}, {@code me} and {@code status} act on.
     *
     * @param broker the broker
     * @return this builder
     */
    public Builder broker(RoleBroker broker) {
      this.broker = Objects.requireNonNull(broker, "broker");
      return this;
    }

    /**
     * The metadata server that {@code session} opens container sessions on.
     *
     * @param server the server
     * @return this builder
     */
    public Builder metadataServer(MetadataServer server) {
      this.metadata = Objects.requireNonNull(server, "metadataServer");
      return this;
    }

    /**
     * Enables {@code console}.
     *
     * @param console the sign-in helper
     * @return this builder
     */
    public Builder consoleSignIn(ConsoleSignIn console) {
      this.console = Objects.requireNonNull(console, "consoleSignIn");
      return this;
    }

    /**
     * Where the control socket goes; its directory is created with mode 0700, or must already have it and belong
     * to this user. Default {@link #defaultControlSocket()}.
     *
     * @param socket the socket path
     * @return this builder
     */
    public Builder controlSocket(Path socket) {
      if (socket.getParent() == null || socket.toString().getBytes(StandardCharsets.UTF_8).length > 100) {
        throw new IllegalArgumentException("controlSocket must be a path in a directory, at most 100 bytes long "
            + "(the limit of a Unix socket address), got " + Printable.quote(socket.toString()));
      }
      this.socket = socket;
      return this;
    }

    /**
     * The only OS user whose connections are served; default the user running the agent.
     *
     * @param user an OS user name
     * @return this builder
     */
    public Builder controlUser(String user) {
      if (user.isBlank()) {
        throw new IllegalArgumentException("controlUser must be an OS user name, got " + Printable.quote(user));
      }
      this.controlUser = user;
      return this;
    }

    /**
     * Binds the control socket and starts serving it.
     *
     * @return the agent
     * @throws IllegalStateException when broker or metadata server is missing, the socket directory is not the
     *     owner's alone, or another agent listens there
     * @throws UncheckedIOException when the socket cannot be created
     */
    public CredentialsAgent build() {
      if (broker == null || metadata == null) {
        throw new IllegalStateException("a CredentialsAgent needs a broker and a metadataServer");
      }
      try {
        return new CredentialsAgent(this);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create the control socket " + socket + ": " + e.getMessage(), e);
      }
    }
  }
}
