/**
 * Hardway's benchmarks: JMH benchmarks of hot paths and end-to-end benchmark mains, each beside a baseline. They run
 * on the class path (see the README), where this descriptor is not consulted; it states what the code uses.
 */
module dev.hardway.benchmarks {
  requires dev.hardway.testkit;
  requires dev.hardway.credentials;
  requires dev.hardway.pacing;
  requires dev.hardway.logtiers;
  requires dev.hardway.procache;
  requires com.github.benmanes.caffeine;
  requires dev.hardway.s3pager;
  requires com.github.luben.zstd_jni;
  requires amazon.kinesis.client;
  requires org.agrona;
  requires org.apache.logging.log4j;
  requires org.apache.logging.log4j.core;
  requires ch.qos.logback.classic;
  requires ch.qos.logback.core;
  requires jdk.httpserver;
  requires HdrHistogram;
  requires java.management;
  requires jmh.core;
}
