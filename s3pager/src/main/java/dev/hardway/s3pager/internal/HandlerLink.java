package dev.hardway.s3pager.internal;

import dev.hardway.s3pager.S3PagerException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.security.CodeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The application's end of one handler process (a small JVM running {@link HandlerMain}) and its guardian
 * ({@link GuardianMain}), shared by every object a pager opens. This side waits on them only parked (futures) or in
 * native code (pipe reads), never in a page fault.
 *
 * <p>When the handler dies, the exit watcher poisons every missing page of every object (readers of a segment get
 * {@link InternalError}, readers of the explicit path the module's exception) and fails every pending request; the
 * guardian does the same from outside this JVM, for the case where a safepoint has stopped every thread here.
 */
public final class HandlerLink implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(HandlerLink.class.getName());
  /** Held while a child may take this process's descriptors: {@code PR_SET_PTRACER} names one process at a time. */
  private static final Object PTRACER = new Object();

  private final Process process;
  private final DataOutputStream out;
  private final Map<Integer, RemoteBackend> objects = new ConcurrentHashMap<>();
  private final Map<Integer, CompletableFuture<Void>> opening = new ConcurrentHashMap<>();
  private final Map<Integer, CompletableFuture<Void>> closing = new ConcurrentHashMap<>();
  private final AtomicInteger ids = new AtomicInteger();
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private final Duration timeout;
  private volatile @Nullable String death;
  private volatile boolean closed;
  private volatile @Nullable Process guardian;
  private volatile @Nullable DataOutputStream guardianInput;

  /** The handler could not take the userfaultfd (no ptrace rights over this process): fall back. */
  public static final class HandoverRefused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    HandoverRefused(String message) {
      super(message);
    }
  }

  private HandlerLink(Process process, Duration timeout) {
    this.process = process;
    this.timeout = timeout;
    this.out = new DataOutputStream(new BufferedOutputStream(process.getOutputStream()));
  }

  /**
   * Launches the handler (and its guardian) and waits until it holds the userfaultfd.
   *
   * @param client how the handler reaches S3 (credentials go over the pipe, never on the command line)
   * @param uffd the pager's userfaultfd
   * @param jvmOptions options for the handler JVM
   * @param classPath the handler's class path, or null to find it (see {@link #classPath})
   * @param timeout how long to wait for the handler to start, and for it to answer an open or a close
   * @param guardian whether to start a guardian process
   * @return the link
   * @throws HandoverRefused when the handler may not take the descriptor
   * @throws S3PagerException when it cannot start
   */
  public static HandlerLink start(ClientConfig client, Uffd uffd, List<String> jvmOptions, @Nullable String classPath,
      Duration timeout, boolean guardian) {
    synchronized (PTRACER) {
      try {
        return startLocked(client, uffd, jvmOptions, classPath, timeout, guardian);
      } finally {
        Linux.allowPtracer(0);
      }
    }
  }

  private static HandlerLink startLocked(ClientConfig client, Uffd uffd, List<String> jvmOptions,
      @Nullable String classPath, Duration timeout, boolean guardian) {
    String cp = classPath != null ? classPath : classPath();
    List<String> command = javaCommand(jvmOptions, HandlerMain.class, cp);
    Process process;
    try {
      process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    } catch (IOException e) {
      throw new S3PagerException("cannot start the s3pager handler process " + command.get(0) + ": " + e, true, e);
    }
    HandlerLink link = new HandlerLink(process, timeout);
    Linux.allowPtracer(process.pid());
    try {
      synchronized (link.out) {
        link.out.writeInt(Protocol.MAGIC);
        link.out.writeLong(ProcessHandle.current().pid());
        link.out.writeInt(uffd.fd());
        client.write(link.out);
        link.out.flush();
      }
    } catch (IOException e) {
      process.destroyForcibly();
      throw new S3PagerException("the s3pager handler process " + process.pid() + " died at start: " + e, true, e);
    }
    Thread.ofPlatform().daemon().name("s3pager-handler-" + process.pid()).start(link::readReplies);
    process.onExit().thenRun(link::handlerExited);
    try {
      link.ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      process.destroyForcibly();
      if (e.getCause() instanceof HandoverRefused refused) {
        throw refused;
      }
      throw new S3PagerException("the s3pager handler process " + process.pid() + " failed to start: "
          + e.getCause().getMessage() + " (its standard error is this process's)", true, e.getCause());
    } catch (TimeoutException e) {
      process.destroyForcibly();
      throw new S3PagerException("the s3pager handler process " + process.pid() + " was not ready within "
          + timeout + " (command: " + command.get(0) + " ... " + HandlerMain.class.getName() + ")", true, e);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new S3PagerException("interrupted while the s3pager handler process started", true, e);
    }
    if (guardian) {
      link.startGuardian(uffd, cp, timeout);
    }
    return link;
  }

  /**
   * The class path for the handler: this JVM's {@code java.class.path} when it holds this module's classes (a plain
   * {@code java -cp} application or a test runner), else the URLs of the class loader that loaded them (an
   * application server, {@code exec:java}), else the code sources of this module and of the SDK classes it needs.
   *
   * @return the class path
   */
  static String classPath() {
    Set<String> entries = new LinkedHashSet<>();
    String own = location(HandlerMain.class);
    String javaClassPath = System.getProperty("java.class.path", "");
    if (own != null && List.of(javaClassPath.split(File.pathSeparator)).contains(own)) {
      return javaClassPath;
    }
    if (HandlerMain.class.getClassLoader() instanceof URLClassLoader loader) {
      for (URL url : loader.getURLs()) {
        try {
          entries.add(Path.of(url.toURI()).toString());
        } catch (URISyntaxException | IllegalArgumentException e) {
          // Not a file: skip it.
        }
      }
      if (own == null || entries.contains(own)) {
        return String.join(File.pathSeparator, entries);
      }
    }
    return javaClassPath;
  }

  private static @Nullable String location(Class<?> type) {
    CodeSource source = type.getProtectionDomain().getCodeSource();
    if (source == null || source.getLocation() == null) {
      return null;
    }
    try {
      return Path.of(source.getLocation().toURI()).toString();
    } catch (URISyntaxException | IllegalArgumentException e) {
      return null;
    }
  }

  /** The command that runs {@code main} in a JVM like this one: same java, this module path or the class path. */
  static List<String> javaCommand(List<String> jvmOptions, Class<?> main, String classPath) {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(jvmOptions);
    Module module = main.getModule();
    String modulePath = System.getProperty("jdk.module.path");
    if (module.isNamed() && modulePath != null) {
      command.add("--enable-native-access=" + module.getName());
      command.add("--module-path");
      command.add(modulePath);
      command.add("--add-modules");
      command.add("ALL-MODULE-PATH");
      command.add("-m");
      command.add(module.getName() + "/" + main.getName());
    } else {
      command.add("--enable-native-access=ALL-UNNAMED");
      command.add("-cp");
      command.add(classPath);
      command.add(main.getName());
    }
    return command;
  }

  private void startGuardian(Uffd uffd, String classPath, Duration timeout) {
    List<String> command = javaCommand(List.of("-Xmx24m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Xss256k", "-XX:-UsePerfData"), GuardianMain.class, classPath);
    try {
      Process g = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      Linux.allowPtracer(g.pid());
      // Kept open (and referenced, or a cleaner would close it): end of input tells the guardian to go.
      DataOutputStream o = new DataOutputStream(new BufferedOutputStream(g.getOutputStream()));
      synchronized (o) {
        o.writeLong(ProcessHandle.current().pid());
        o.writeInt(uffd.fd());
        o.writeLong(process.pid());
        o.flush();
      }
      // Wait (parked) until it holds the descriptor, or says it cannot.
      CompletableFuture<Integer> took = CompletableFuture.supplyAsync(() -> {
        try {
          return g.getInputStream().read();
        } catch (IOException e) {
          return -1;
        }
      }, Thread::startVirtualThread);
      int answer = took.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (answer != 'R') {
        g.destroyForcibly();
        LOG.log(System.Logger.Level.WARNING, "s3pager: no guardian for handler " + process.pid() + " (it could not take"
            + " the userfaultfd; see its standard error)");
        return;
      }
      guardian = g;
      guardianInput = o;
    } catch (ExecutionException | TimeoutException e) {
      LOG.log(System.Logger.Level.WARNING, "s3pager: no guardian for handler " + process.pid() + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "s3pager: no guardian for handler " + process.pid() + ": " + e);
    }
  }

  private void toGuardian(Request update) {
    DataOutputStream o = guardianInput;
    if (o == null) {
      return;
    }
    synchronized (o) {
      try {
        update.write(o);
        o.flush();
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "s3pager: the guardian of handler " + process.pid() + " is gone: " + e);
      }
    }
  }

  /**
   * Whether the handler runs (a dead one is replaced by the pager at the next open).
   *
   * @return true while it can serve
   */
  public boolean alive() {
    return death == null && !closed && process.isAlive();
  }

  /**
   * The handler's pid.
   *
   * @return the pid
   */
  public long pid() {
    return process.pid();
  }

  /**
   * Hands an object to the handler and waits until it serves the object's faults.
   *
   * @param config the object
   * @param mapping its mapping, registered with the pager's userfaultfd
   * @return the object's backend
   * @throws S3PagerException when the handler is dead or does not answer in time
   */
  public RemoteBackend open(PagerConfig config, Mapping mapping) {
    int id = ids.incrementAndGet();
    RemoteBackend backend = new RemoteBackend(this, id, mapping);
    CompletableFuture<Void> opened = new CompletableFuture<>();
    opening.put(id, opened);
    objects.put(id, backend);
    toGuardian(o -> {
      o.writeByte(GuardianMain.ADD);
      o.writeLong(mapping.base());
      o.writeLong(mapping.length());
    });
    send(o -> {
      o.writeByte(Protocol.OPEN);
      o.writeInt(id);
      o.writeLong(mapping.base());
      config.write(o);
    });
    String dead = death;
    if (dead != null) {
      opened.completeExceptionally(new S3PagerException(dead, true));
    }
    try {
      opened.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return backend;
    } catch (ExecutionException | TimeoutException | InterruptedException e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      forget(id, mapping);
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new S3PagerException("the s3pager handler process " + process.pid() + " did not take s3://"
          + config.bucket() + "/" + config.key() + ": " + cause, true, cause);
    } finally {
      opening.remove(id);
    }
  }

  /** Closes an object in the handler; returns once the handler installs nothing more into its range. */
  void close(int id, Mapping mapping) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    closing.put(id, done);
    send(o -> {
      o.writeByte(Protocol.CLOSE);
      o.writeInt(id);
    });
    if (!alive()) {
      done.complete(null);
    }
    try {
      done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      // Completed exceptionally only when the handler died: it installs nothing any more.
    } catch (TimeoutException e) {
      // A handler that does not answer might still write into the range after it is unmapped: stop it.
      LOG.log(System.Logger.Level.WARNING, "s3pager: handler " + process.pid() + " did not close an object within "
          + timeout + "; stopping it");
      process.destroyForcibly();
      try {
        process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closing.remove(id);
      forget(id, mapping);
    }
  }

  private void forget(int id, Mapping mapping) {
    objects.remove(id);
    toGuardian(o -> {
      o.writeByte(GuardianMain.REMOVE);
      o.writeLong(mapping.base());
    });
  }

  /**
   * Sends fresh credentials to the handler.
   *
   * @param accessKeyId the key id
   * @param secretAccessKey the secret
   * @param sessionToken the token, or null
   */
  public void credentials(String accessKeyId, String secretAccessKey, @Nullable String sessionToken) {
    send(o -> {
      o.writeByte(Protocol.CREDENTIALS);
      o.writeUTF(accessKeyId);
      o.writeUTF(secretAccessKey);
      PagerConfig.writeNullable(o, sessionToken);
    });
  }

  private void readReplies() {
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(process.getInputStream()))) {
      while (true) {
        byte op = in.readByte();
        switch (op) {
          case Protocol.READY -> ready.complete(null);
          case Protocol.INIT_FAILED -> {
            int errno = in.readInt();
            String message = in.readUTF();
            ready.completeExceptionally(errno == Linux.EPERM || errno == Linux.EACCES
                ? new HandoverRefused(message) : new IllegalStateException(message));
          }
          case Protocol.OPENED -> {
            CompletableFuture<Void> f = opening.get(in.readInt());
            if (f != null) {
              f.complete(null);
            }
          }
          case Protocol.AWAITED -> {
            RemoteBackend b = objects.get(in.readInt());
            long request = in.readLong();
            String error = PagerConfig.readNullable(in);
            boolean retryable = in.readBoolean();
            if (b != null) {
              b.awaited(request, error, retryable);
            }
          }
          case Protocol.EVICT -> {
            int id = in.readInt();
            int chunk = in.readInt();
            RemoteBackend b = objects.get(id);
            boolean done = b != null && b.mapping().tryEvict(chunk);
            send(o -> {
              o.writeByte(Protocol.EVICTED);
              o.writeInt(id);
              o.writeInt(chunk);
              o.writeBoolean(done);
            });
          }
          case Protocol.STATS_REPLY -> {
            RemoteBackend b = objects.get(in.readInt());
            long request = in.readLong();
            long[] stats = new long[in.readInt()];
            for (int i = 0; i < stats.length; i++) {
              stats[i] = in.readLong();
            }
            if (b != null) {
              b.statsReply(request, stats);
            }
          }
          case Protocol.FAILED -> {
            RemoteBackend b = objects.get(in.readInt());
            String message = in.readUTF();
            in.readBoolean();
            if (b != null) {
              b.failed(message);
            }
          }
          case Protocol.CLOSED -> {
            CompletableFuture<Void> f = closing.get(in.readInt());
            if (f != null) {
              f.complete(null);
            }
          }
          default -> throw new IOException("unknown reply " + op);
        }
      }
    } catch (EOFException e) {
      // The handler exited; the exit watcher handles it.
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "s3pager handler pipe failed", e);
    }
  }

  /** Runs when the handler process ends, expectedly or not. */
  private void handlerExited() {
    String message = "the s3pager handler process " + process.pid() + " died (exit code " + process.exitValue()
        + "); the missing pages of its objects are poisoned";
    death = message;
    if (!closed) {
      LOG.log(System.Logger.Level.WARNING, message);
    }
    S3PagerException e = new S3PagerException(message, true);
    ready.completeExceptionally(e);
    // No reader may keep waiting on a fault nobody will serve, nor read zeros: poison what is missing.
    objects.values().forEach(b -> b.handlerDied(message));
    opening.values().forEach(f -> f.completeExceptionally(e));
    closing.values().forEach(f -> f.completeExceptionally(e));
    DataOutputStream g = guardianInput;
    if (g != null) {
      try {
        g.close();
      } catch (IOException ignored) {
        // The guardian exits with the handler anyway.
      }
    }
  }

  interface Request {
    void write(DataOutputStream out) throws IOException;
  }

  void send(Request request) {
    synchronized (out) {
      try {
        request.write(out);
        out.flush();
      } catch (IOException e) {
        // The handler is gone; its exit watcher fails what is pending.
      }
    }
  }

  /**
   * Ends the handler (which poisons what is missing of any object still open) and its guardian.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    DataOutputStream g = guardianInput;
    try {
      if (g != null) {
        g.close();
      }
      out.close();
    } catch (IOException e) {
      // Gone already.
    }
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      }
      Process gp = guardian;
      if (gp != null && !gp.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        gp.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
