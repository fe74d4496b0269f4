/**
 * Maps an S3 object into read-only off-heap memory and fetches its pages on first touch with {@code userfaultfd},
 * with the fault handler in a helper process so that no thread of the application JVM ever waits on a fault that a
 * safepoint-bound thread must resolve.
 */
// The AWS SDK for Java v2 and Agrona ship automatic modules only, and this module's API takes SDK credential providers
// and returns Agrona buffers, so those modules are required transitively.
@SuppressWarnings({"requires-transitive-automatic", "requires-automatic"})
module dev.hardway.s3pager {
  exports dev.hardway.s3pager;

  requires transitive org.jspecify;
  requires transitive org.agrona;
  requires transitive software.amazon.awssdk.auth;
  requires transitive software.amazon.awssdk.identity.spi;
  requires software.amazon.awssdk.services.s3;
  requires software.amazon.awssdk.core;
  requires software.amazon.awssdk.awscore;
  requires software.amazon.awssdk.regions;
  requires software.amazon.awssdk.http;
  requires software.amazon.awssdk.http.apache5;
  requires software.amazon.awssdk.retries.api;
  requires software.amazon.awssdk.utils;
  // Optional: only PagedObject.chronicleBytes() touches it, and only when called.
  requires static chronicle.bytes;
}
