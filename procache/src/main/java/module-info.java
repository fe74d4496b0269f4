/**
 * A read-through cross-region cache fed proactively from DynamoDB Streams: an in-process tier, a regional Redis
 * tier, and a read-through to the home region, answering every read within a deadline.
 */
// Lettuce and the AWS SDK ship automatic modules only, and this module's API takes their clients, so they are
// required transitively.
@SuppressWarnings("requires-transitive-automatic")
module dev.hardway.procache {
  exports dev.hardway.procache;

  requires transitive org.jspecify;
  requires transitive lettuce.core;
  requires transitive software.amazon.awssdk.services.kinesis;
  requires transitive software.amazon.awssdk.services.dynamodb;
  requires software.amazon.awssdk.core;
  requires software.amazon.awssdk.awscore;
  requires com.github.benmanes.caffeine;
  requires HdrHistogram;
}
