/**
 * Tiered event logs: a nanosecond {@code append} on the caller's thread, then Kinesis in about a second (low tier),
 * the main-region S3 bucket within minutes with nothing lost (mid tier), and the source-region bucket for bulk (high
 * tier).
 */
// The AWS SDK for Java v2 and Agrona ship automatic modules only, and this module's API takes SDK clients and Agrona
// buffers, so those modules are required transitively.
@SuppressWarnings("requires-transitive-automatic")
module dev.hardway.logtiers {
  exports dev.hardway.logtiers;
  exports dev.hardway.logtiers.logback;

  requires transitive org.jspecify;
  requires transitive org.agrona;
  requires transitive software.amazon.awssdk.services.kinesis;
  requires transitive software.amazon.awssdk.services.s3;
  requires transitive software.amazon.awssdk.utils;
  requires software.amazon.awssdk.core;
  requires software.amazon.awssdk.awscore;
  requires software.amazon.awssdk.http;
  requires com.github.luben.zstd_jni;
  requires HdrHistogram;
  // Optional: only the Logback appender uses them. Not transitive, so that modules reading this one need Logback
  // neither to compile nor to run; the appender is configured by Logback itself, which has them.
  requires static ch.qos.logback.classic;
  requires static ch.qos.logback.core;
  requires static org.slf4j;
}
