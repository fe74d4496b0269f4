/**
 * Global, eventually consistent spend counters: a budget spent evenly across regions and boxes, never overspent.
 */
// The AWS SDK for Java v2 ships automatic modules only, and this module's API takes SDK clients, so those modules
// are required transitively.
@SuppressWarnings("requires-transitive-automatic")
module dev.hardway.pacing {
  exports dev.hardway.pacing;
  exports dev.hardway.pacing.sim;

  requires transitive org.jspecify;
  requires transitive software.amazon.awssdk.services.kinesis;
  requires transitive software.amazon.awssdk.services.s3;
  requires transitive software.amazon.awssdk.services.dynamodb;
  requires software.amazon.awssdk.core;
  requires software.amazon.awssdk.awscore;
}
