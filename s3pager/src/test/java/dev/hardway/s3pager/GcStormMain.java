package dev.hardway.s3pager;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A GC storm (System.gc() every 5 ms plus allocation pressure) while threads scan a paged object directly:
 * sequentially, then at random (with a memory budget, so chunks are evicted and fetched again). Prints the wall clock (ms) at
 * each phase boundary so the test can split the safepoint log. Args: endpoint region bucket key size chunkSize budget.
 */
public final class GcStormMain {
  private GcStormMain() { }

  public static void main(String[] args) throws Exception {
    String bucket = args[2];
    String key = args[3];
    int size = Integer.parseInt(args[4]);
    byte[] expected = Objects3.bytes(size, key.hashCode() * 31L + size);
    AtomicBoolean storming = new AtomicBoolean(true);
    AtomicLong gcs = new AtomicLong();
    Thread gc = Thread.ofPlatform().daemon().start(() -> {
      while (storming.get()) {
        System.gc();
        gcs.incrementAndGet();
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    Thread allocator = Thread.ofPlatform().daemon().start(() -> {
      Object[] keep = new Object[1024];
      SplittableRandom r = new SplittableRandom(1);
      while (storming.get()) {
        keep[r.nextInt(keep.length)] = new byte[r.nextInt(64 << 10)];
      }
    });
    try (S3Pager pager = ChildJvm.pager(args[0], args[1]).chunkSize(Long.parseLong(args[5]))
        .pieceSize(Math.min(Long.parseLong(args[5]), 1 << 20)).memoryBudget(Long.parseLong(args[6]))
        .readahead(2, 8).build();
         PagedObject object = pager.open(bucket, key)) {
      MemorySegment segment = object.segment();
      System.out.println("SEQUENTIAL_START " + uptime());
      long mismatches = 0;
      for (int i = 0; i < size; i++) {
        if (segment.get(JAVA_BYTE, i) != expected[i]) {
          mismatches++;
        }
      }
      System.out.println("SEQUENTIAL_END " + uptime() + " " + mismatches);
      Thread[] randoms = new Thread[4];
      AtomicLong randomMismatches = new AtomicLong();
      for (int t = 0; t < randoms.length; t++) {
        long seed = t;
        randoms[t] = Thread.ofPlatform().start(() -> {
          SplittableRandom r = new SplittableRandom(seed);
          for (int n = 0; n < 150; n++) {
            int offset = r.nextInt(size - 4096);
            for (int i = offset; i < offset + 4096; i += 512) {
              if (segment.get(JAVA_BYTE, i) != expected[i]) {
                randomMismatches.incrementAndGet();
              }
            }
          }
        });
      }
      for (Thread t : randoms) {
        t.join();
      }
      System.out.println("RANDOM_END " + uptime() + " " + randomMismatches.get());
      PagerStats stats = object.stats();
      System.out.println("STATS " + stats.stalls() + " " + stats.markerHits() + " " + stats.evictions() + " "
          + stats.maxResidentBytes() + " " + gcs.get());
    } finally {
      storming.set(false);
      gc.join();
      allocator.join();
    }
    System.out.println("EXIT");
  }

  private static long uptime() {
    return System.currentTimeMillis();
  }
}
