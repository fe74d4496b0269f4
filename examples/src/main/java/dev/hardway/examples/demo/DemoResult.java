package dev.hardway.examples.demo;

import java.nio.file.Path;
import java.util.List;

/**
 * What the demo found.
 *
 * @param broken the invariants that broke, each said in a sentence (empty when all held)
 * @param budgetMicros the day's budget
 * @param pacerSpentMicros what the pacers counted as spent (spent minus refunded, all boxes)
 * @param recountSpentMicros what the batch recount over the mid tier's objects found
 * @param auctions auctions run
 * @param midRecords records the mid tier accepted
 * @param recountRecords distinct records the recount found
 * @param text the report as text
 * @param html the report as an HTML page
 */
public record DemoResult(List<String> broken, long budgetMicros, long pacerSpentMicros, long recountSpentMicros,
    long auctions, long midRecords, long recountRecords, Path text, Path html) {

  /**
   * Whether every invariant held.
   *
   * @return true when nothing broke
   */
  public boolean ok() {
    return broken.isEmpty();
  }
}
