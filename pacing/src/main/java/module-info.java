/**
 * Global, eventually consistent spend counters: a budget spent evenly across regions and boxes, never overspent.
 */
@SuppressWarnings("requires-transitive-automatic")
module dev.hardway.pacing {
  exports dev.hardway.pacing;
  exports dev.hardway.pacing.sim;

  requires transitive org.jspecify;
}
