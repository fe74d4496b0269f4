/**
 * Credentials without long-lived keys: a fast provider chain for the AWS SDK v2 and an EC2 instance metadata
 * imitator that serves short-lived STS role credentials on workstations.
 */
// The AWS SDK for Java v2 ships automatic modules only, and this module's API hands out SDK types (the provider
// interface, StsClient), so those modules are required transitively.
@SuppressWarnings("requires-transitive-automatic")
module dev.hardway.credentials {
  exports dev.hardway.credentials;

  requires transitive org.jspecify;
  requires transitive software.amazon.awssdk.auth;
  requires transitive software.amazon.awssdk.identity.spi;
  requires transitive software.amazon.awssdk.services.sts;
  requires software.amazon.awssdk.core;
  requires software.amazon.awssdk.awscore;
  requires software.amazon.awssdk.profiles;
  requires software.amazon.awssdk.regions;
  requires transitive software.amazon.awssdk.utils;
  // ConsoleSignIn.Builder takes a java.net.http.HttpClient.
  requires transitive java.net.http;
  requires jdk.net;
  // UnboundID's jar has no module name of its own yet; the file name gives it one.
  requires unboundid.ldapsdk;
}
