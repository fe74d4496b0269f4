package dev.hardway.s3pager.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.jspecify.annotations.Nullable;

/**
 * The handler process: takes the application's userfaultfd with {@code pidfd_getfd}, serves its faults from S3 with
 * {@code UFFDIO_COPY}, and answers the application's requests on standard input and output. It is a separate JVM so
 * that its threads are never stopped by the application's safepoints, which may be waiting for a reader blocked on a
 * fault only this process can resolve.
 *
 * <p>It exits when its standard input closes (the application closed the object or died).
 */
public final class HandlerMain {
  private final DataOutputStream out;
  private final BlockingQueue<Message> outbox = new LinkedBlockingQueue<>();
  private @Nullable Engine engine;
  private @Nullable Uffd uffd;
  private long base;

  private interface Message {
    void write(DataOutputStream out) throws IOException;
  }

  private HandlerMain(DataOutputStream out) {
    this.out = out;
  }

  /**
   * Runs the handler; the protocol is on standard input and output, diagnostics on standard error.
   *
   * @param args none
   */
  public static void main(String[] args) {
    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)));
    // Nothing else may write to the protocol stream.
    System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true));
    DataInputStream in = new DataInputStream(new BufferedInputStream(System.in));
    int status = new HandlerMain(out).run(in);
    Runtime.getRuntime().halt(status);
  }

  private int run(DataInputStream in) {
    Thread writer = Thread.ofPlatform().daemon().name("s3pager-handler-out").start(this::drain);
    try {
      if (in.readInt() != Protocol.MAGIC) {
        System.err.println("s3pager handler: bad handshake");
        return 2;
      }
      long parentPid = in.readLong();
      int remoteFd = in.readInt();
      base = in.readLong();
      PagerConfig config = PagerConfig.read(in);
      int fd = Linux.takeFd(parentPid, remoteFd);
      if (fd < 0) {
        int errno = Linux.errno();
        send(o -> {
          o.writeByte(Protocol.INIT_FAILED);
          o.writeInt(errno);
          o.writeUTF("pidfd_getfd of the application's userfaultfd failed with " + Linux.errnoName(errno));
        });
        flushAndWait(writer);
        return 3;
      }
      Uffd taken = new Uffd(fd);
      uffd = taken;
      Engine e = new Engine(config, new UffdHost(taken));
      engine = e;
      Thread.ofPlatform().daemon().name("s3pager-handler-faults").start(() -> serveFaults(taken, e));
      // The first chunk is the likeliest first touch, and fetching it warms this JVM's S3 client and connection.
      e.warmUp(10_000);
      send(o -> o.writeByte(Protocol.READY));
      return control(in, e);
    } catch (EOFException eof) {
      return 0;
    } catch (IOException | RuntimeException ex) {
      ex.printStackTrace();
      return 1;
    } finally {
      Engine e = engine;
      if (e != null) {
        e.close();
      }
    }
  }

  private int control(DataInputStream in, Engine e) throws IOException {
    while (true) {
      byte op;
      try {
        op = in.readByte();
      } catch (EOFException eof) {
        // The application closed the pipe or died: poison what is missing (in close) and go.
        return 0;
      }
      switch (op) {
        case Protocol.PREFETCH -> e.prefetch(in.readLong(), in.readLong());
        case Protocol.AWAIT -> e.await(in.readLong(), in.readLong(), in.readLong());
        case Protocol.EVICTED -> e.evicted(in.readInt(), in.readBoolean());
        case Protocol.STATS -> {
          long id = in.readLong();
          long[] stats = e.stats();
          send(o -> {
            o.writeByte(Protocol.STATS_REPLY);
            o.writeLong(id);
            o.writeInt(stats.length);
            for (long s : stats) {
              o.writeLong(s);
            }
          });
        }
        case Protocol.CREDENTIALS -> e.credentials(in.readUTF(), in.readUTF(), PagerConfig.readNullable(in));
        case Protocol.CLOSE -> {
          e.close();
          send(o -> o.writeByte(Protocol.CLOSED));
          flushAndWait(null);
          return 0;
        }
        default -> throw new IOException("unknown request " + op);
      }
    }
  }

  private void serveFaults(Uffd fd, Engine e) {
    Arena arena = Arena.ofConfined();
    MemorySegment messages = arena.allocate(Uffd.MSG_SIZE * 64L, 8);
    MemorySegment pollFd = arena.allocate(Linux.POLLFD);
    pollFd.set(JAVA_INT, 0, fd.fd());
    pollFd.set(JAVA_SHORT, 4, Linux.POLLIN);
    while (true) {
      // A timeout, because closing the descriptor does not wake poll.
      int ready = Linux.poll(pollFd, 1, 100);
      if (ready <= 0) {
        continue;
      }
      long n = Linux.read(fd.fd(), messages, messages.byteSize());
      for (long i = 0; i + Uffd.MSG_SIZE <= n; i += Uffd.MSG_SIZE) {
        if (messages.get(JAVA_BYTE, i) == Uffd.EVENT_PAGEFAULT) {
          e.fault(messages.get(JAVA_LONG, i + 16) - base);
        }
      }
    }
  }

  private void send(Message m) {
    outbox.add(m);
  }

  private void drain() {
    try {
      while (true) {
        Message m = outbox.take();
        m.write(out);
        if (outbox.isEmpty()) {
          out.flush();
        }
      }
    } catch (InterruptedException | IOException e) {
      // The application is gone; the control loop sees end of input.
    }
  }

  private void flushAndWait(@Nullable Thread writer) {
    for (int i = 0; i < 200 && !outbox.isEmpty(); i++) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        return;
      }
    }
    try {
      synchronized (out) {
        out.flush();
      }
    } catch (IOException e) {
      // Gone.
    }
  }

  /** Installs into the application's memory through the userfaultfd. */
  private final class UffdHost implements Host {
    private final Uffd fd;

    UffdHost(Uffd fd) {
      this.fd = fd;
    }

    @Override
    public int install(long offset, MemorySegment src, long length) {
      return fd.copy(base + offset, src.address(), length);
    }

    @Override
    public void poison(long offset, long length) {
      fd.poisonMissing(base + offset, length);
    }

    @Override
    public void wake(long offset, long length) {
      fd.wake(base + offset, length);
    }

    @Override
    public void evict(int chunk) {
      send(o -> {
        o.writeByte(Protocol.EVICT);
        o.writeInt(chunk);
      });
    }

    @Override
    public void awaited(long id, @Nullable String error, boolean retryable) {
      send(o -> {
        o.writeByte(Protocol.AWAITED);
        o.writeLong(id);
        PagerConfig.writeNullable(o, error);
        o.writeBoolean(retryable);
      });
    }

    @Override
    public void failed(String message, boolean retryable) {
      send(o -> {
        o.writeByte(Protocol.FAILED);
        o.writeUTF(message);
        o.writeBoolean(retryable);
      });
    }
  }
}
