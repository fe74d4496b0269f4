package dev.hardway.testkit.fault;

/**
 * Frames the server-to-client stream of one connection into HTTP/1.1 responses, pairs each with its request (see
 * {@link HttpExchanges}) and applies that request's fault: holds the final response ({@code delay}), paces its body
 * ({@code slowBody}), cuts its body short ({@code truncateBody}), or, when the proxy answers a request itself, sends
 * that answer once the responses before it are through.
 *
 * <p>Interim responses ({@code 100 Continue}, {@code 103 Early Hints}) pass at once and do not end the exchange;
 * {@code 101 Switching Protocols}, and a 2xx answer to {@code CONNECT}, end framing for the connection. Responses to
 * HEAD, and 1xx, 204 and 304 responses have no body (RFC 9112 section 6.3).
 *
 * <p>Runs on the connection's downstream reader thread only.
 */
final class ResponseFramer {

  private enum State { HEAD, BODY, PASSTHROUGH, DONE }

  private final FrameOutput out;
  private final FramerContext context;
  private final HttpExchanges exchanges;
  private final HeadBuffer head = new HeadBuffer(false);
  private final BodyFramer body = new BodyFramer();
  private State state = State.HEAD;
  private long truncateAfter = -1;
  private long bodySent;
  private long bodyRate;

  ResponseFramer(FrameOutput out, FramerContext context, HttpExchanges exchanges) {
    this.out = out;
    this.context = context;
    this.exchanges = exchanges;
  }

  /**
   * Takes bytes read from the server.
   *
   * @return false when the connection is finishing and the server is no longer read
   */
  boolean feed(byte[] input, int offset, int length, long arrival) throws InterruptedException {
    int position = offset;
    int end = offset + length;
    while (position < end) {
      switch (state) {
        case PASSTHROUGH -> {
          out.data(input, position, end - position, arrival, 0, 0);
          return true;
        }
        case DONE -> {
          context.discarded(end - position);
          return false;
        }
        case HEAD -> {
          if (head.isEmpty() && context.passthrough()) {
            state = State.PASSTHROUGH;
            continue;
          }
          position += head.append(input, position, end - position);
          if (head.invalid()) {
            passThrough(arrival);
          } else if (head.complete() && !onHead(arrival)) {
            context.discarded(end - position);
            return false;
          }
        }
        case BODY -> {
          int used = body.consume(input, position, end - position);
          if (body.failed()) {
            context.enterPassthrough();
            state = State.PASSTHROUGH;
            continue;
          }
          if (!sendBody(input, position, used, arrival)) {
            context.discarded(end - position - used);
            return false;
          }
          position += used;
          if (body.done() && !complete()) {
            context.discarded(end - position);
            return false;
          }
        }
      }
    }
    return true;
  }

  /** The server closed its side, or the request side woke this side to send an injected response. */
  void eof(long arrival) throws InterruptedException {
    if (state == State.DONE) {
      return;
    }
    if (state == State.BODY && body.mode() == BodyFramer.Mode.UNTIL_CLOSE) {
      body.endOfStream();
      if (!complete()) {
        return;
      }
    } else if (state == State.HEAD && !head.isEmpty()) {
      out.data(head.copy(), 0, head.size(), arrival, 0, 0);
      head.reset();
    }
    HttpExchanges.Exchange next = exchanges.peek();
    if (state != State.PASSTHROUGH && next != null && next.injected()) {
      inject(next);
      return;
    }
    out.eof(arrival);
  }

  /** Returns false when the response was the last one and the connection is finishing. */
  private boolean onHead(long arrival) throws InterruptedException {
    HeadBuffer.Parsed parsed = head.parse();
    int status = parsed == null ? -1 : status(parsed.startLine()[1]);
    if (parsed == null || status < 0) {
      passThrough(arrival);
      return true;
    }
    HttpExchanges.Exchange exchange = exchanges.peek();
    if (exchange != null && exchange.injected()) {
      // Unexpected: the server answered a request it never received. Its bytes are dropped, the answer is ours.
      context.discarded(head.size());
      head.reset();
      inject(exchange);
      return false;
    }
    if (status >= 100 && status < 200 && status != 101) {
      send(head, arrival, 0);
      return true;
    }
    HttpFault fault = exchange == null ? null : exchange.fault();
    send(head, arrival, fault == null ? 0 : fault.delayNanos());
    String method = exchange == null ? "GET" : exchange.method();
    if (status == 101 || ("CONNECT".equalsIgnoreCase(method) && status < 300)) {
      context.enterPassthrough();
      state = State.PASSTHROUGH;
      return true;
    }
    BodyFramer.Framing framing = BodyFramer.responseFraming(parsed, status, "HEAD".equalsIgnoreCase(method));
    if (framing == null) {
      context.enterPassthrough();
      state = State.PASSTHROUGH;
      return true;
    }
    truncateAfter = fault == null ? -1 : fault.truncateAfter();
    bodyRate = fault == null ? 0 : fault.slowBodyBytesPerSecond();
    bodySent = 0;
    body.start(framing);
    if (body.done()) {
      return complete();
    }
    state = State.BODY;
    return true;
  }

  private boolean sendBody(byte[] input, int offset, int length, long arrival) throws InterruptedException {
    if (truncateAfter < 0 || length <= truncateAfter - bodySent) {
      out.data(input, offset, length, arrival, 0, bodyRate);
      bodySent += length;
      return true;
    }
    int allowed = (int) (truncateAfter - bodySent);
    out.data(input, offset, allowed, arrival, 0, bodyRate);
    context.discarded(length - allowed);
    finish(arrival, 0);
    return false;
  }

  /** The final response ended; returns false when an injected response followed it and ended the connection. */
  private boolean complete() throws InterruptedException {
    state = State.HEAD;
    HttpExchanges.Exchange next = exchanges.completeAndPeek();
    if (next != null && next.injected()) {
      inject(next);
      return false;
    }
    return true;
  }

  private void inject(HttpExchanges.Exchange exchange) throws InterruptedException {
    HttpFault fault = exchange.fault();
    HttpFaultResponse response = fault == null ? null : fault.response();
    if (fault == null || response == null) {
      throw new IllegalStateException("not an injected exchange: " + exchange);
    }
    long now = System.nanoTime();
    byte[] bytes = response.render(context.newRequestId(), "HEAD".equalsIgnoreCase(exchange.method()));
    out.data(bytes, 0, bytes.length, now, fault.delayNanos(), 0);
    finish(now, fault.delayNanos());
  }

  private void finish(long arrival, long extraDelay) throws InterruptedException {
    out.finish(arrival, extraDelay);
    state = State.DONE;
    context.responseSideFinished();
  }

  private void send(HeadBuffer buffer, long arrival, long extraDelay) throws InterruptedException {
    out.data(buffer.copy(), 0, buffer.size(), arrival, extraDelay, 0);
    buffer.reset();
  }

  private void passThrough(long arrival) throws InterruptedException {
    context.enterPassthrough();
    if (!head.isEmpty()) {
      out.data(head.copy(), 0, head.size(), arrival, 0, 0);
    }
    head.reset();
    state = State.PASSTHROUGH;
  }

  private static int status(String code) {
    if (code.length() != 3 || !code.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return -1;
    }
    int status = Integer.parseInt(code);
    return status >= 100 ? status : -1;
  }
}
