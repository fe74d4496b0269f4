package dev.hardway.testkit.fault;

/**
 * Which way through a {@link FaultProxy} a TCP fault applies.
 *
 * <p>The proxy sits between a client and a server: {@link #UPSTREAM} is what the client sends to the server (requests),
 * {@link #DOWNSTREAM} is what the server sends back (responses).
 */
public enum Direction {
  /** Client to server: requests. */
  UPSTREAM,
  /** Server to client: responses. */
  DOWNSTREAM,
  /** Both ways, each with its own copy of the setting (a latency of 35 ms both ways adds 70 ms to a round trip). */
  BOTH;

  boolean includesUpstream() {
    return this != DOWNSTREAM;
  }

  boolean includesDownstream() {
    return this != UPSTREAM;
  }
}
