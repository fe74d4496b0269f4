package dev.hardway.testkit.fault;

import java.util.List;
import java.util.Map;

/**
 * Frames the client-to-server stream of one connection into HTTP/1.1 requests, decides each request's fault from its
 * head before the body arrives, and forwards every byte unchanged, except a request that is answered by the proxy,
 * which is dropped together with everything the client sends after it.
 *
 * <p>Runs on the connection's upstream reader thread only.
 */
final class RequestFramer {

  private enum State { HEAD, BODY, PASSTHROUGH, DRAIN }

  private final FrameOutput out;
  private final FramerContext context;
  private final HttpExchanges exchanges;
  private final HeadBuffer head = new HeadBuffer(true);
  private final BodyFramer body = new BodyFramer();
  private State state = State.HEAD;
  private boolean passthroughAfterBody;

  RequestFramer(FrameOutput out, FramerContext context, HttpExchanges exchanges) {
    this.out = out;
    this.context = context;
    this.exchanges = exchanges;
  }

  /** Whether the client's bytes are being dropped because the proxy answered a request. */
  boolean draining() {
    return state == State.DRAIN;
  }

  void feed(byte[] input, int offset, int length, long arrival) throws InterruptedException {
    int position = offset;
    int end = offset + length;
    while (position < end) {
      switch (state) {
        case PASSTHROUGH -> {
          out.data(input, position, end - position, arrival, 0, 0);
          return;
        }
        case DRAIN -> {
          context.discarded(end - position);
          return;
        }
        case HEAD -> {
          if (head.isEmpty() && context.passthrough()) {
            state = State.PASSTHROUGH;
            continue;
          }
          position += head.append(input, position, end - position);
          if (head.invalid()) {
            passThrough(arrival);
          } else if (head.complete()) {
            onHead(arrival);
          }
        }
        case BODY -> {
          int used = body.consume(input, position, end - position);
          if (body.failed()) {
            context.enterPassthrough();
            state = State.PASSTHROUGH;
            continue;
          }
          out.data(input, position, used, arrival, 0, 0);
          position += used;
          if (body.done()) {
            state = passthroughAfterBody ? State.PASSTHROUGH : State.HEAD;
          }
        }
      }
    }
  }

  /** The client closed its side (or half-closed it). */
  void eof(long arrival) throws InterruptedException {
    if (state == State.DRAIN) {
      return;
    }
    if (!head.isEmpty()) {
      out.data(head.copy(), 0, head.size(), arrival, 0, 0);
      head.reset();
    }
    out.eof(arrival);
  }

  private void onHead(long arrival) throws InterruptedException {
    HeadBuffer.Parsed parsed = head.parse();
    BodyFramer.Framing framing = parsed == null ? null : BodyFramer.requestFraming(parsed);
    if (parsed == null || framing == null) {
      // Not HTTP/1.x (an HTTP/2 preface "PRI * HTTP/2.0", HTTP/0.9) or framing we cannot follow: stop framing this
      // connection rather than guess where messages end.
      passThrough(arrival);
      return;
    }
    String[] line = parsed.startLine();
    String method = line[0];
    RequestHead request = RequestHead.of(method, line[1], parsed.headers());
    context.countRequest();
    HttpFault fault = context.claimFault(request);
    if (fault != null && fault.response() != null) {
      context.discarded(head.size());
      head.reset();
      state = State.DRAIN;
      if (exchanges.addInjected(new HttpExchanges.Exchange(method, fault))) {
        context.wakeResponseSide();
      }
      return;
    }
    exchanges.add(new HttpExchanges.Exchange(method, fault));
    out.data(head.copy(), 0, head.size(), arrival, 0, 0);
    head.reset();
    // After a request to switch protocols or to tunnel, what the client sends next need not be HTTP/1.1, whatever the
    // server answers; requests after a refused upgrade are rare enough to go unframed.
    passthroughAfterBody = "CONNECT".equalsIgnoreCase(method) || isUpgrade(parsed.headers());
    body.start(framing);
    if (body.done()) {
      state = passthroughAfterBody ? State.PASSTHROUGH : State.HEAD;
    } else {
      state = State.BODY;
    }
  }

  private void passThrough(long arrival) throws InterruptedException {
    context.enterPassthrough();
    if (!head.isEmpty()) {
      out.data(head.copy(), 0, head.size(), arrival, 0, 0);
    }
    head.reset();
    state = State.PASSTHROUGH;
  }

  private static boolean isUpgrade(Map<String, List<String>> headers) {
    return headers.containsKey("upgrade");
  }
}
