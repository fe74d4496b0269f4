/**
 * Real local AWS-compatible servers and fault injection for tests and demos.
 *
 * <p>Start with LocalAws; JUnit 5 users add
 * LocalAwsExtension.
 */
// The AWS SDK for Java v2 ships automatic modules only, and the test kit's API hands out SDK clients and types, so
// those modules are required transitively; javac's warning about that is the one this module accepts.
@SuppressWarnings("requires-transitive-automatic")
module dev.hardway.testkit {
  exports dev.hardway.testkit;
  exports dev.hardway.testkit.sts;
  exports dev.hardway.testkit.dynamodb;
  exports dev.hardway.testkit.fault;
  exports dev.hardway.testkit.junit;

  requires transitive org.jspecify;
  requires transitive org.junit.jupiter.api;
  requires transitive software.amazon.awssdk.core;
  requires transitive software.amazon.awssdk.awscore;
  requires transitive software.amazon.awssdk.auth;
  requires transitive software.amazon.awssdk.regions;
  requires transitive software.amazon.awssdk.identity.spi;
  requires transitive software.amazon.awssdk.services.s3;
  requires transitive software.amazon.awssdk.services.dynamodb;
  requires transitive software.amazon.awssdk.services.kinesis;
  requires transitive software.amazon.awssdk.services.sts;

  requires software.amazon.awssdk.http;
  requires software.amazon.awssdk.utils;
  requires software.amazon.awssdk.retries.api;
  requires software.amazon.awssdk.http.apache5;
  requires software.amazon.awssdk.http.nio.netty;
  requires com.fasterxml.jackson.databind;
  requires org.eclipse.jetty.server;
  requires org.eclipse.jetty.http;
  requires org.eclipse.jetty.io;
  requires org.eclipse.jetty.util;
  requires org.slf4j;
  // UnboundID's jar has no module name of its own yet; the file name gives it one.
  requires unboundid.ldapsdk;
}
