/**
 * A read-through cross-region cache fed proactively from DynamoDB Streams: an in-process tier, a regional Redis
 * tier, and a read-through to the home region, answering every read within a deadline.
 */
// Lettuce ships an automatic module only, and this module's API takes a Lettuce client, so it is required
// transitively.
@SuppressWarnings("requires-transitive-automatic")
module dev.hardway.procache {
  exports dev.hardway.procache;

  requires transitive org.jspecify;
  requires transitive lettuce.core;
  requires com.github.benmanes.caffeine;
  requires HdrHistogram;
}
