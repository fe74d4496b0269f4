package dev.hardway.testkit.dynamodb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.OperationType;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

class DynamoDbConcurrencyTest extends DynamoDbTestSupport {

  private static final int THREADS = 8;

  private <T> List<T> runConcurrently(int tasks, IntFunction<T> task) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<T>> futures = new ArrayList<>();
      for (int t = 0; t < tasks; t++) {
        int id = t;
        futures.add(pool.submit(() -> {
          go.await();
          return task.apply(id);
        }));
      }
      go.countDown();
      List<T> results = new ArrayList<>();
      for (Future<T> f : futures) {
        results.add(f.get(60, TimeUnit.SECONDS));
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void concurrentWriters_produceAStreamWhoseRecordsPerKeyAreInModificationOrder() throws Exception {
    String table = hashTable("concurrent", StreamViewType.NEW_AND_OLD_IMAGES);
    int keys = 4;
    int incrementsPerThread = 25;
    runConcurrently(THREADS, thread -> {
      for (int i = 0; i < incrementsPerThread; i++) {
        String key = "k" + ((thread + i) % keys);
        dynamo.updateItem(b -> b.tableName(table).key(item("pk", s(key)))
            .updateExpression("ADD hits :one SET lastWriter = :w")
            .expressionAttributeValues(item(":one", n(1), ":w", n(thread))));
      }
      return null;
    });
    int total = THREADS * incrementsPerThread;
    int sum = 0;
    for (int k = 0; k < keys; k++) {
      String key = "k" + k;
      sum += Integer.parseInt(dynamo.getItem(b -> b.tableName(table).key(item("pk", s(key)))).item().get("hits")
          .n());
    }
    assertEquals(total, sum);
    List<Record> records = allRecords(table);
    assertEquals(total, records.size());
    Map<String, Integer> lastSeen = new HashMap<>();
    for (Record r : records) {
      String key = r.dynamodb().keys().get("pk").s();
      int hits = Integer.parseInt(r.dynamodb().newImage().get("hits").n());
      int before = lastSeen.getOrDefault(key, 0);
      assertEquals(before + 1, hits, "records of " + key + " out of order");
      if (before == 0) {
        assertEquals(OperationType.INSERT, r.eventName());
      } else {
        assertEquals(before, Integer.parseInt(r.dynamodb().oldImage().get("hits").n()));
      }
      lastSeen.put(key, hits);
    }
  }

  @Test
  void concurrentConditionalCreates_haveExactlyOneWinner() throws Exception {
    String table = hashTable("race", StreamViewType.KEYS_ONLY);
    AtomicInteger losers = new AtomicInteger();
    List<Boolean> won = runConcurrently(THREADS * 2, id -> {
      try {
        dynamo.putItem(b -> b.tableName(table).item(item("pk", s("lock"), "holder", n(id)))
            .conditionExpression("attribute_not_exists(pk)"));
        return true;
      } catch (ConditionalCheckFailedException e) {
        losers.incrementAndGet();
        return false;
      }
    });
    assertEquals(1, won.stream().filter(w -> w).count());
    assertEquals(THREADS * 2 - 1, losers.get());
    assertEquals(1, allRecords(table).size());
  }

  @Test
  void concurrentTransactions_overlappingTablesInOppositeOrder_neitherDeadlockNorTearWrites() throws Exception {
    String first = hashTable("tx-left");
    String second = hashTable("tx-right");
    runConcurrently(THREADS, thread -> {
      for (int i = 0; i < 20; i++) {
        String a = thread % 2 == 0 ? first : second;
        String b2 = thread % 2 == 0 ? second : first;
        dynamo.transactWriteItems(t -> t.transactItems(
            TransactWriteItem.builder().update(u -> u.tableName(a)
                .key(item("pk", s("total"))).updateExpression("ADD n :one")
                .expressionAttributeValues(item(":one", n(1)))).build(),
            TransactWriteItem.builder().update(u -> u.tableName(b2)
                .key(item("pk", s("total"))).updateExpression("ADD n :one")
                .expressionAttributeValues(item(":one", n(1)))).build()));
      }
      return null;
    });
    for (String table : List.of(first, second)) {
      assertEquals(n(THREADS * 20), dynamo.getItem(b -> b.tableName(table).key(item("pk", s("total")))).item()
          .get("n"));
    }
  }
}
