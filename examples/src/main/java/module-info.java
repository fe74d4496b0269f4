/** Runnable examples of each Hardway module, on the test kit's local servers. */
module dev.hardway.examples {
  requires dev.hardway.credentials;
  requires dev.hardway.pacing;
  requires dev.hardway.logtiers;
  requires dev.hardway.procache;
  requires dev.hardway.s3pager;
  requires software.amazon.awssdk.retries.api;
  requires dev.hardway.testkit;
}
