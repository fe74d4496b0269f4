package dev.hardway.procache;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.ReturnConsumedCapacity;
import software.amazon.awssdk.services.dynamodb.model.ScanResponse;

/**
 * A parallel scan of a home table, each item handed to the caller as a {@link Aggregator.Change} of event
 * {@value #EVENT}, for warm-up and for the aggregator's full resync. Segments run on virtual threads; a failed page is
 * retried with backoff and jitter from where it stopped. Read units are DynamoDB's own figure when it returns one,
 * else estimated as DynamoDB bills a scan (item sizes summed per page, rounded up to 4 KiB, half a unit per 4 KiB
 * for an eventually consistent read).
 */
final class HomeScan {
  /** The {@link Aggregator.Change#event()} of an item read by a scan rather than from the stream. */
  static final String EVENT = "SCAN";

  /** Receives the items of one page; called from several threads at once (one per segment). */
  @FunctionalInterface
  interface PageHandler {
    void handle(List<Aggregator.Change> changes);
  }

  record Result(long items, double readUnits, long retries) {}

  private HomeScan() {}

  static Result scan(DynamoDbClient ddb, String table, String tableLabel, int segments, PageHandler handler,
      BooleanSupplier stop) {
    List<String> keyNames = new ArrayList<>();
    for (KeySchemaElement k : ddb.describeTable(b -> b.tableName(table)).table().keySchema()) {
      keyNames.add(k.attributeName());
    }
    AtomicLong items = new AtomicLong();
    AtomicLong retries = new AtomicLong();
    double[] units = new double[segments];
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> running = new ArrayList<>();
      for (int s = 0; s < segments; s++) {
        int segment = s;
        running.add(pool.submit(() -> {
          units[segment] = scanSegment(ddb, table, tableLabel, keyNames, segment, segments, handler, stop, items,
              retries);
          return null;
        }));
      }
      for (Future<?> f : running) {
        try {
          f.get();
        } catch (ExecutionException e) {
          throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while scanning " + table, e);
        }
      }
    }
    double total = 0;
    for (double u : units) {
      total += u;
    }
    return new Result(items.get(), total, retries.get());
  }

  private static double scanSegment(DynamoDbClient ddb, String table, String label, List<String> keyNames,
      int segment, int segments, PageHandler handler, BooleanSupplier stop, AtomicLong items, AtomicLong retries) {
    double units = 0;
    Map<String, AttributeValue> start = null;
    int failuresInARow = 0;
    do {
      if (stop.getAsBoolean()) {
        return units;
      }
      Map<String, AttributeValue> from = start;
      ScanResponse page;
      try {
        page = ddb.scan(b -> b.tableName(table).segment(segment).totalSegments(segments).exclusiveStartKey(from)
            .returnConsumedCapacity(ReturnConsumedCapacity.TOTAL));
        failuresInARow = 0;
      } catch (SdkException e) {
        if (++failuresInARow > 10) {
          throw e;
        }
        retries.incrementAndGet();
        Backoff.sleep(failuresInARow, 100, 5_000);
        continue;
      }
      List<Aggregator.Change> changes = new ArrayList<>(page.count());
      long bytes = 0;
      for (Map<String, AttributeValue> item : page.items()) {
        bytes += sizeOf(item);
        Map<String, AttributeValue> keys = new java.util.HashMap<>();
        for (String k : keyNames) {
          AttributeValue v = item.get(k);
          if (v != null) {
            keys.put(k, v);
          }
        }
        changes.add(new Aggregator.Change(label, EVENT, Map.copyOf(keys), null, item, false, ""));
      }
      items.addAndGet(changes.size());
      var consumed = page.consumedCapacity();
      units += consumed != null && consumed.capacityUnits() != null
          ? consumed.capacityUnits() : Math.ceil(bytes / 4096.0) * 0.5;
      if (!changes.isEmpty()) {
        handler.handle(changes);
      }
      start = page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty() ? page.lastEvaluatedKey() : null;
    } while (start != null);
    return units;
  }

  /** DynamoDB's item size: attribute names plus values (numbers about one byte per two digits). */
  static long sizeOf(Map<String, AttributeValue> item) {
    long n = 0;
    for (Map.Entry<String, AttributeValue> e : item.entrySet()) {
      n += e.getKey().getBytes(StandardCharsets.UTF_8).length + sizeOf(e.getValue());
    }
    return n;
  }

  private static long sizeOf(@Nullable AttributeValue v) {
    if (v == null) {
      return 0;
    }
    if (v.s() != null) {
      return v.s().getBytes(StandardCharsets.UTF_8).length;
    }
    if (v.n() != null) {
      return v.n().length() / 2 + 1;
    }
    if (v.b() != null) {
      return v.b().asByteArrayUnsafe().length;
    }
    if (v.bool() != null || v.nul() != null) {
      return 1;
    }
    long n = 3;
    if (v.hasM()) {
      n += sizeOf(v.m());
    }
    if (v.hasL()) {
      for (AttributeValue x : v.l()) {
        n += 1 + sizeOf(x);
      }
    }
    if (v.hasSs()) {
      for (String s : v.ss()) {
        n += s.getBytes(StandardCharsets.UTF_8).length;
      }
    }
    if (v.hasNs()) {
      for (String s : v.ns()) {
        n += s.length() / 2 + 1;
      }
    }
    return n;
  }
}
