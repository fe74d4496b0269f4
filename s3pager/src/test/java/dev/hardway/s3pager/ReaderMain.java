package dev.hardway.s3pager;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import net.openhft.chronicle.bytes.BytesStore;
import org.agrona.DirectBuffer;

/**
 * A reader in a JVM of its own, driven by {@link Reader}. Direct reads of a paged object must not share a JVM with the
 * S3 server that serves its pages (the test kit's S3 and fault proxy run in the test's JVM): a safepoint waiting on a
 * reader blocked on a fault would stop the very server the handler is waiting on. Real S3 is never in the reader's
 * JVM; in the tests, the reader moves out instead.
 *
 * <p>Arguments: endpoint, region, bucket, key, size, then {@code option=value} pairs for the pager. Commands, one per
 * line on standard input, each answered with one line: {@code OK ...} or {@code ERR <class>: <message>}.
 */
public final class ReaderMain {
  private final PagedObject object;
  private final byte[] expected;
  private final Map<String, Thread> background = new ConcurrentHashMap<>();
  private final Map<String, String> outcomes = new ConcurrentHashMap<>();
  private final AtomicLong progress = new AtomicLong();

  private ReaderMain(PagedObject object, byte[] expected) {
    this.object = object;
    this.expected = expected;
  }

  public static void main(String[] args) throws Exception {
    String bucket = args[2];
    String key = args[3];
    int size = Integer.parseInt(args[4]);
    S3Pager.Builder builder = ChildJvm.pager(args[0], args[1]).chunkSize(256 << 10).pieceSize(64 << 10);
    for (int i = 5; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      switch (kv[0]) {
        case "chunk" -> builder.chunkSize(Long.parseLong(kv[1]));
        case "piece" -> builder.pieceSize(Long.parseLong(kv[1]));
        case "readahead" -> {
          String[] r = kv[1].split(",");
          builder.readahead(Integer.parseInt(r[0]), Integer.parseInt(r[1]));
        }
        case "budget" -> builder.memoryBudget(Long.parseLong(kv[1]));
        case "retries" -> builder.retries(Integer.parseInt(kv[1]), Duration.ofMillis(2), Duration.ofMillis(20));
        case "threads" -> builder.fetchThreads(Integer.parseInt(kv[1]));
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    byte[] expected = Objects3.bytes(size, key.hashCode() * 31L + size);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try (S3Pager pager = builder.build(); PagedObject object = pager.open(bucket, key)) {
      System.out.println("OPEN " + object.handlerPid() + " " + object.mode());
      ReaderMain reader = new ReaderMain(object, expected);
      String line;
      while ((line = in.readLine()) != null && !line.equals("quit")) {
        String answer;
        try {
          answer = reader.run(pager, bucket, key, line.split(" "));
        } catch (Throwable t) {
          answer = "ERR " + t.getClass().getSimpleName() + ": " + String.valueOf(t.getMessage()).replace('\n', ' ');
        }
        System.out.println(answer);
      }
    }
    System.out.println("EXIT");
  }

  private String run(S3Pager pager, String bucket, String key, String[] c) throws Exception {
    return switch (c[0]) {
      case "scan" -> "OK " + scan(object.segment(), Long.parseLong(c[1]), Long.parseLong(c[2]));
      case "agrona" -> "OK " + agrona(object.directBuffer(), Integer.parseInt(c[1]), Integer.parseInt(c[2]));
      case "read" -> "OK " + read(Integer.parseInt(c[1]), Integer.parseInt(c[2]));
      case "chronicle" -> "OK " + chronicle(Integer.parseInt(c[1]), Integer.parseInt(c[2]));
      case "touch" -> {
        int at = Integer.parseInt(c[1]);
        byte b = object.segment().get(JAVA_BYTE, at);
        yield b == expected[at] ? "OK" : "WRONG " + at + " " + b + " " + expected[at];
      }
      case "crowd" -> crowd(Integer.parseInt(c[1]), Integer.parseInt(c[2]), Integer.parseInt(c[3]));
      case "start" -> start(c[1]);
      case "progress" -> "OK " + progress.get();
      case "join" -> join(Integer.parseInt(c[1]));
      case "stats" -> "OK " + stats(object.stats());
      case "pager" -> "OK " + pager.handlerPid() + " " + pager.handlersStarted();
      case "reopen" -> {
        try (PagedObject again = pager.open(bucket, key)) {
          yield "OK " + scan(again.segment(), 0, again.size()) + " " + again.handlerPid() + " "
              + pager.handlersStarted();
        }
      }
      default -> throw new IllegalArgumentException("unknown command " + c[0]);
    };
  }

  static String stats(PagerStats s) {
    return "faults=" + s.faults() + " stalls=" + s.stalls() + " markerHits=" + s.markerHits() + " fetches="
        + s.fetches() + " bytes=" + s.bytesFetched() + " retries=" + s.retries() + " evictions=" + s.evictions()
        + " resident=" + s.residentBytes() + " maxResident=" + s.maxResidentBytes();
  }

  /** Reads every byte of a range directly; the count, or throws naming the first wrong byte. */
  private long scan(MemorySegment segment, long from, long to) {
    for (long i = from; i < to; i++) {
      byte b = segment.get(JAVA_BYTE, i);
      if (b != expected[(int) i]) {
        throw new AssertionError("byte " + i + " is " + b + ", expected " + expected[(int) i]);
      }
      progress.incrementAndGet();
    }
    return to - from;
  }

  private long agrona(DirectBuffer buffer, int from, int to) {
    byte[] got = new byte[to - from];
    buffer.getBytes(from, got);
    if (!Arrays.equals(got, Arrays.copyOfRange(expected, from, to))) {
      throw new AssertionError("the Agrona view differs from the object in " + from + ".." + to);
    }
    return got.length;
  }

  private long chronicle(int from, int to) {
    BytesStore<?, ?> store = object.chronicleBytes();
    if (store.capacity() != object.size()) {
      throw new AssertionError("the Chronicle view has " + store.capacity() + " bytes, the object " + object.size());
    }
    for (int i = from; i < to; i++) {
      byte b = store.readByte(i);
      if (b != expected[i]) {
        throw new AssertionError("Chronicle byte " + i + " is " + b + ", expected " + expected[i]);
      }
    }
    return to - from;
  }

  private long read(int from, int length) {
    byte[] got = new byte[length];
    object.read(from, got, 0, length);
    if (!Arrays.equals(got, Arrays.copyOfRange(expected, from, from + length))) {
      throw new AssertionError("read(" + from + ", " + length + ") differs from the object");
    }
    return length;
  }

  /** {@code threads} threads touch one region at once, half directly, half through read(). */
  private String crowd(int offset, int threads, int spacing) throws InterruptedException {
    List<Thread> all = new ArrayList<>();
    AtomicLong right = new AtomicLong();
    for (int t = 0; t < threads; t++) {
      int at = offset + t * spacing;
      boolean direct = t % 2 == 0;
      all.add(Thread.ofPlatform().start(() -> {
        if (direct) {
          if (object.segment().get(JAVA_BYTE, at) == expected[at]) {
            right.incrementAndGet();
          }
        } else {
          byte[] b = new byte[1000];
          object.read(at, b, 0, b.length);
          if (Arrays.equals(b, Arrays.copyOfRange(expected, at, at + b.length))) {
            right.incrementAndGet();
          }
        }
      }));
    }
    for (Thread t : all) {
      t.join(30_000);
    }
    return "OK " + right.get();
  }

  /** Starts a background reader: "direct" scans forwards, "explicit" reads 64 KiB blocks backwards. */
  private String start(String which) {
    Runnable body = switch (which) {
      case "direct" -> () -> scan(object.segment(), 0, object.size());
      case "explicit" -> () -> {
        int block = 64 << 10;
        for (int at = expected.length - block; at >= 0; at -= block) {
          read(at, block);
        }
      };
      default -> throw new IllegalArgumentException("unknown reader " + which);
    };
    background.put(which, Thread.ofPlatform().name(which).start(() -> {
      try {
        body.run();
        outcomes.put(which, "done");
      } catch (Throwable t) {
        outcomes.put(which, t.getClass().getSimpleName() + ":" + String.valueOf(t.getMessage()).replace(' ', '_'));
      }
    }));
    return "OK";
  }

  /** Waits for the background readers; each one's outcome. */
  private String join(int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    StringBuilder answer = new StringBuilder("OK");
    for (Map.Entry<String, Thread> e : background.entrySet()) {
      e.getValue().join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      answer.append(' ').append(e.getKey()).append('=')
          .append(e.getValue().isAlive() ? "still-waiting" : outcomes.get(e.getKey()));
    }
    return answer.toString();
  }
}
