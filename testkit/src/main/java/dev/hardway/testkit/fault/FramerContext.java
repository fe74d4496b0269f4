package dev.hardway.testkit.fault;

import org.jspecify.annotations.Nullable;

/** What the HTTP framers of one connection need from it and from the proxy. */
interface FramerContext {

  /** The first installed rule that matches and has hits left, already counted, or null. */
  @Nullable HttpFault claimFault(RequestHead head);

  /** Counts a request head seen. */
  void countRequest();

  /** Counts bytes that were read but will never be delivered. */
  void discarded(long bytes);

  /** A fresh request ID for an injected response. */
  String newRequestId();

  /** Whether the connection stopped being HTTP/1.1 (upgrade, HTTP/2, unparseable): framers then pass bytes on. */
  boolean passthrough();

  /** Marks the connection as no longer HTTP/1.1 in both directions. */
  void enterPassthrough();

  /**
   * An injected response waits and no forwarded request is outstanding before it: wake the response side, which is
   * blocked reading the server, so that it sends the injected response.
   */
  void wakeResponseSide();

  /** The response side queued a {@link FrameOutput#finish finish}: stop talking to the server. */
  void responseSideFinished();
}
