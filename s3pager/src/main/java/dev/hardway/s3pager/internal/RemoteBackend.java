package dev.hardway.s3pager.internal;

import dev.hardway.s3pager.S3PagerException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Userfaultfd mode: a handler process (a small JVM running {@link HandlerMain}) holds a copy of the userfaultfd,
 * serves every fault and answers requests over its standard input and output. This side waits on it only parked
 * (futures) or in native code (pipe reads), never in a page fault.
 *
 * <p>When the handler dies, the exit watcher poisons every missing page (readers of the segment get
 * {@link InternalError}, readers of the explicit path the module's exception) and fails every pending request.
 */
public final class RemoteBackend implements Backend {
  private static final System.Logger LOG = System.getLogger(RemoteBackend.class.getName());

  private final Mapping mapping;
  private final Process process;
  private final DataOutputStream out;
  private final Map<Long, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();
  private final Map<Long, CompletableFuture<long[]>> statsPending = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private volatile @Nullable String failure;
  private volatile boolean closing;
  private volatile @Nullable Process guardian;
  private volatile @Nullable DataOutputStream guardianInput;

  /** The handler could not take the userfaultfd (no ptrace rights over this process): fall back. */
  public static final class HandoverRefused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    HandoverRefused(String message) {
      super(message);
    }
  }

  private RemoteBackend(Mapping mapping, Process process) {
    this.mapping = mapping;
    this.process = process;
    this.out = new DataOutputStream(new BufferedOutputStream(process.getOutputStream()));
  }

  /**
   * Launches the handler and waits until it holds the userfaultfd.
   *
   * @param config the configuration (credentials go over the pipe, never on the command line)
   * @param mapping a registered mapping
   * @param jvmOptions options for the handler JVM
   * @param startTimeout how long to wait for it
   * @param guardian whether to start a guardian process (see {@link GuardianMain})
   * @return the backend
   * @throws HandoverRefused when the handler may not take the descriptor
   * @throws S3PagerException when it cannot start
   */
  public static RemoteBackend start(PagerConfig config, Mapping mapping, List<String> jvmOptions,
      Duration startTimeout, boolean guardian) {
    Uffd uffd = mapping.uffd();
    if (uffd == null) {
      throw new IllegalArgumentException("the mapping has no userfaultfd");
    }
    List<String> command = javaCommand(jvmOptions, HandlerMain.class);
    Process process;
    try {
      process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    } catch (IOException e) {
      throw new S3PagerException("cannot start the s3pager handler process " + command.get(0) + ": " + e, true, e);
    }
    RemoteBackend backend = new RemoteBackend(mapping, process);
    try {
      synchronized (backend.out) {
        backend.out.writeInt(Protocol.MAGIC);
        backend.out.writeLong(ProcessHandle.current().pid());
        backend.out.writeInt(uffd.fd());
        backend.out.writeLong(mapping.base());
        config.write(backend.out);
        backend.out.flush();
      }
    } catch (IOException e) {
      process.destroyForcibly();
      throw new S3PagerException("the s3pager handler process " + process.pid() + " died at start: " + e, true, e);
    }
    Thread.ofPlatform().daemon().name("s3pager-handler-" + process.pid()).start(backend::readReplies);
    process.onExit().thenRun(backend::handlerExited);
    try {
      backend.ready.get(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      process.destroyForcibly();
      if (e.getCause() instanceof HandoverRefused refused) {
        throw refused;
      }
      throw new S3PagerException("the s3pager handler process " + process.pid() + " failed to start: "
          + e.getCause().getMessage(), true, e.getCause());
    } catch (TimeoutException e) {
      process.destroyForcibly();
      throw new S3PagerException("the s3pager handler process " + process.pid() + " was not ready within "
          + startTimeout, true, e);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new S3PagerException("interrupted while the s3pager handler process started", true, e);
    }
    if (guardian) {
      backend.startGuardian(uffd);
    }
    return backend;
  }

  /** The command that runs {@code main} in a JVM like this one: same java, same class path or module path. */
  static List<String> javaCommand(List<String> jvmOptions, Class<?> main) {
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
      command.add(System.getProperty("java.class.path", "") + File.pathSeparator);
      command.add(main.getName());
    }
    return command;
  }

  /**
   * Starts the guardian process (see {@link GuardianMain}) for this handler; does not wait for it.
   */
  private void startGuardian(Uffd uffd) {
    List<String> command = javaCommand(List.of("-Xmx24m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Xss256k", "-XX:-UsePerfData"), GuardianMain.class);
    try {
      Process g = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      guardian = g;
      // Kept open (and referenced, or a cleaner would close it): end of input tells the guardian to go.
      DataOutputStream o = new DataOutputStream(new BufferedOutputStream(g.getOutputStream()));
      guardianInput = o;
      {
        o.writeLong(ProcessHandle.current().pid());
        o.writeInt(uffd.fd());
        o.writeLong(process.pid());
        o.writeLong(mapping.base());
        o.writeLong(mapping.length());
        o.flush();
      }
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "s3pager: no guardian for handler " + process.pid() + ": " + e);
    }
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
          case Protocol.AWAITED -> {
            long id = in.readLong();
            String error = PagerConfig.readNullable(in);
            boolean retryable = in.readBoolean();
            CompletableFuture<Void> f = pending.remove(id);
            if (f != null) {
              if (error == null) {
                f.complete(null);
              } else {
                f.completeExceptionally(new S3PagerException(error, retryable));
              }
            }
          }
          case Protocol.EVICT -> {
            int chunk = in.readInt();
            boolean done = mapping.tryEvict(chunk);
            send(o -> {
              o.writeByte(Protocol.EVICTED);
              o.writeInt(chunk);
              o.writeBoolean(done);
            });
          }
          case Protocol.STATS_REPLY -> {
            long id = in.readLong();
            long[] stats = new long[in.readInt()];
            for (int i = 0; i < stats.length; i++) {
              stats[i] = in.readLong();
            }
            CompletableFuture<long[]> f = statsPending.remove(id);
            if (f != null) {
              f.complete(stats);
            }
          }
          case Protocol.FAILED -> {
            String message = in.readUTF();
            in.readBoolean();
            failure = message;
          }
          case Protocol.CLOSED -> {
            return;
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
    if (closing) {
      return;
    }
    String message = "the s3pager handler process " + process.pid() + " died (exit code " + process.exitValue()
        + "); the object's missing pages are poisoned";
    if (failure == null) {
      failure = message;
    }
    LOG.log(System.Logger.Level.WARNING, message);
    // No reader may keep waiting on a fault nobody will serve, nor read zeros: poison what is missing.
    mapping.poisonMissing();
    S3PagerException e = new S3PagerException(message, true);
    ready.completeExceptionally(e);
    pending.values().forEach(f -> f.completeExceptionally(e));
    pending.clear();
    statsPending.values().forEach(f -> f.completeExceptionally(e));
    statsPending.clear();
  }

  private interface Request {
    void write(DataOutputStream out) throws IOException;
  }

  private void send(Request request) {
    synchronized (out) {
      try {
        request.write(out);
        out.flush();
      } catch (IOException e) {
        // The handler is gone; its exit watcher fails what is pending.
      }
    }
  }

  @Override
  public void prefetch(long first, long last) {
    send(o -> {
      o.writeByte(Protocol.PREFETCH);
      o.writeLong(first);
      o.writeLong(last);
    });
  }

  @Override
  public CompletableFuture<Void> await(long first, long last) {
    long id = ids.incrementAndGet();
    CompletableFuture<Void> f = new CompletableFuture<>();
    String failed = failure;
    if (!process.isAlive() && failed != null) {
      f.completeExceptionally(new S3PagerException(failed, true));
      return f;
    }
    pending.put(id, f);
    send(o -> {
      o.writeByte(Protocol.AWAIT);
      o.writeLong(id);
      o.writeLong(first);
      o.writeLong(last);
    });
    if (!process.isAlive()) {
      handlerExited();
    }
    return f;
  }

  @Override
  public CompletableFuture<long[]> stats() {
    long id = ids.incrementAndGet();
    CompletableFuture<long[]> f = new CompletableFuture<>();
    statsPending.put(id, f);
    send(o -> {
      o.writeByte(Protocol.STATS);
      o.writeLong(id);
    });
    if (!process.isAlive()) {
      handlerExited();
    }
    return f;
  }

  @Override
  public void credentials(String accessKeyId, String secretAccessKey, @Nullable String sessionToken) {
    send(o -> {
      o.writeByte(Protocol.CREDENTIALS);
      o.writeUTF(accessKeyId);
      o.writeUTF(secretAccessKey);
      PagerConfig.writeNullable(o, sessionToken);
    });
  }

  @Override
  public @Nullable String failure() {
    return failure;
  }

  @Override
  public long handlerPid() {
    return process.pid();
  }

  @Override
  public void close() {
    closing = true;
    Process g = guardian;
    if (g != null) {
      g.destroyForcibly();
    }
    send(o -> o.writeByte(Protocol.CLOSE));
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    if (g != null) {
      try {
        g.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    S3PagerException e = new S3PagerException("the object is closed", false);
    pending.values().forEach(f -> f.completeExceptionally(e));
    statsPending.values().forEach(f -> f.completeExceptionally(e));
  }
}
