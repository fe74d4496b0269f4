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
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.LinkedBlockingQueue;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The handler process of one {@code S3Pager}: takes the pager's userfaultfd with {@code pidfd_getfd}, serves the faults
 * of every object the pager opens from S3 with {@code UFFDIO_COPY}, and answers the application's requests on standard
 * input and output. It is a separate JVM so that its threads are never stopped by the application's safepoints, which
 * may be waiting for a reader blocked on a fault only this process can resolve.
 *
 * <p>It exits when its standard input closes (the pager closed, or the application died).
 */
public final class HandlerMain {
  private final DataOutputStream out;
  private final BlockingQueue<Message> outbox = new LinkedBlockingQueue<>();
  private final Map<Integer, Opened> objects = new ConcurrentHashMap<>();
  private final ConcurrentSkipListMap<Long, Opened> byAddress = new ConcurrentSkipListMap<>();
  private volatile @Nullable AwsCredentials credentials;

  private interface Message {
    void write(DataOutputStream out) throws IOException;
  }

  /** One object: its engine and where it is mapped in the application. */
  private record Opened(int id, long base, long length, Engine engine) {}

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
    Thread.ofPlatform().daemon().name("s3pager-handler-out").start(this::drain);
    S3Client s3 = null;
    try {
      if (in.readInt() != Protocol.MAGIC) {
        System.err.println("s3pager handler: bad handshake");
        return 2;
      }
      long parentPid = in.readLong();
      int remoteFd = in.readInt();
      ClientConfig client = ClientConfig.read(in);
      credentials = Fetcher.credentials(client.accessKeyId(), client.secretAccessKey(), client.sessionToken());
      int fd = Linux.takeFd(parentPid, remoteFd);
      if (fd < 0) {
        int errno = Linux.errno();
        send(o -> {
          o.writeByte(Protocol.INIT_FAILED);
          o.writeInt(errno);
          o.writeUTF("pidfd_getfd of the application's userfaultfd failed with " + Linux.errnoName(errno));
        });
        flush();
        return 3;
      }
      Uffd uffd = new Uffd(fd);
      s3 = Fetcher.client(client, () -> {
        AwsCredentials c = credentials;
        if (c == null) {
          throw new IllegalStateException("no credentials");
        }
        return c;
      });
      Thread.ofPlatform().daemon().name("s3pager-handler-faults").start(() -> serveFaults(uffd));
      send(o -> o.writeByte(Protocol.READY));
      return control(in, uffd, s3);
    } catch (EOFException eof) {
      return 0;
    } catch (IOException | RuntimeException ex) {
      ex.printStackTrace();
      return 1;
    } finally {
      // Poison what is missing of every object still open, so that no reader waits on a fault nobody serves.
      objects.values().forEach(o -> o.engine().close());
      if (s3 != null) {
        s3.close();
      }
    }
  }

  private int control(DataInputStream in, Uffd uffd, S3Client s3) throws IOException {
    while (true) {
      byte op;
      try {
        op = in.readByte();
      } catch (EOFException eof) {
        // The pager closed the pipe or the application died: the finally block poisons what is missing.
        return 0;
      }
      switch (op) {
        case Protocol.OPEN -> {
          int id = in.readInt();
          long base = in.readLong();
          PagerConfig config = PagerConfig.read(in);
          long length = (config.objectSize() + Linux.PAGE_SIZE - 1) & -Linux.PAGE_SIZE;
          Engine engine = new Engine(config, new UffdHost(uffd, id, base), s3);
          Opened opened = new Opened(id, base, length, engine);
          objects.put(id, opened);
          byAddress.put(base, opened);
          send(o -> {
            o.writeByte(Protocol.OPENED);
            o.writeInt(id);
          });
        }
        case Protocol.PREFETCH -> {
          Engine e = engine(in.readInt());
          long first = in.readLong();
          long last = in.readLong();
          if (e != null) {
            e.prefetch(first, last);
          }
        }
        case Protocol.AWAIT -> {
          int id = in.readInt();
          long request = in.readLong();
          long first = in.readLong();
          long last = in.readLong();
          Engine e = engine(id);
          if (e != null) {
            e.await(request, first, last);
          } else {
            awaited(id, request, "the object is closed", false);
          }
        }
        case Protocol.ACCESSED -> {
          Engine e = engine(in.readInt());
          int chunk = in.readInt();
          if (e != null) {
            e.accessed(chunk);
          }
        }
        case Protocol.EVICTED -> {
          Engine e = engine(in.readInt());
          int chunk = in.readInt();
          boolean done = in.readBoolean();
          if (e != null) {
            e.evicted(chunk, done);
          }
        }
        case Protocol.STATS -> {
          int id = in.readInt();
          long request = in.readLong();
          Engine e = engine(id);
          long[] stats = e == null ? new long[0] : e.stats();
          send(o -> {
            o.writeByte(Protocol.STATS_REPLY);
            o.writeInt(id);
            o.writeLong(request);
            o.writeInt(stats.length);
            for (long s : stats) {
              o.writeLong(s);
            }
          });
        }
        case Protocol.CREDENTIALS ->
            credentials = Fetcher.credentials(in.readUTF(), in.readUTF(), PagerConfig.readNullable(in));
        case Protocol.CLOSE -> {
          int id = in.readInt();
          Opened o = objects.remove(id);
          if (o != null) {
            byAddress.remove(o.base());
            // Returns once no install into the range is in progress: the application may unmap it then.
            o.engine().close();
          }
          send(m -> {
            m.writeByte(Protocol.CLOSED);
            m.writeInt(id);
          });
        }
        default -> throw new IOException("unknown request " + op);
      }
    }
  }

  private @Nullable Engine engine(int id) {
    Opened o = objects.get(id);
    return o == null ? null : o.engine();
  }

  private void serveFaults(Uffd fd) {
    Arena arena = Arena.ofConfined();
    MemorySegment messages = arena.allocate(Uffd.MSG_SIZE * 64L, 8);
    MemorySegment pollFd = arena.allocate(Linux.POLLFD);
    pollFd.set(JAVA_INT, 0, fd.fd());
    pollFd.set(JAVA_SHORT, 4, Linux.POLLIN);
    while (true) {
      int ready = Linux.poll(pollFd, 1, 1000);
      if (ready <= 0) {
        continue;
      }
      long n = Linux.read(fd.fd(), messages, messages.byteSize());
      for (long i = 0; i + Uffd.MSG_SIZE <= n; i += Uffd.MSG_SIZE) {
        if (messages.get(JAVA_BYTE, i) == Uffd.EVENT_PAGEFAULT) {
          long address = messages.get(JAVA_LONG, i + 16);
          Map.Entry<Long, Opened> e = byAddress.floorEntry(address);
          if (e != null && address < e.getKey() + e.getValue().length()) {
            e.getValue().engine().fault(address - e.getKey());
          }
          // Otherwise the object is closing: the application poisons its missing pages before it unregisters them.
        }
      }
    }
  }

  private void awaited(int id, long request, @Nullable String error, boolean retryable) {
    send(o -> {
      o.writeByte(Protocol.AWAITED);
      o.writeInt(id);
      o.writeLong(request);
      PagerConfig.writeNullable(o, error);
      o.writeBoolean(retryable);
    });
  }

  private void send(Message m) {
    outbox.add(m);
  }

  private void drain() {
    try {
      while (true) {
        Message m = outbox.take();
        synchronized (out) {
          m.write(out);
          if (outbox.isEmpty()) {
            out.flush();
          }
        }
      }
    } catch (InterruptedException | IOException e) {
      // The application is gone; the control loop sees end of input.
    }
  }

  private void flush() {
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

  /** Installs into the application's memory through the userfaultfd, for one object. */
  private final class UffdHost implements Host {
    private final Uffd fd;
    private final int id;
    private final long base;

    UffdHost(Uffd fd, int id, long base) {
      this.fd = fd;
      this.id = id;
      this.base = base;
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
        o.writeInt(id);
        o.writeInt(chunk);
      });
    }

    @Override
    public void awaited(long request, @Nullable String error, boolean retryable) {
      HandlerMain.this.awaited(id, request, error, retryable);
    }

    @Override
    public void failed(String message, boolean retryable) {
      send(o -> {
        o.writeByte(Protocol.FAILED);
        o.writeInt(id);
        o.writeUTF(message);
        o.writeBoolean(retryable);
      });
    }
  }
}
