package dev.hardway.testkit.fault;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The requests of one connection still waiting for their response, oldest first: the request side adds one per
 * request head, the response side looks at the oldest to know how to frame and shape its response (HEAD has no body;
 * delay, slow body, truncation), and removes it when the final response ends. HTTP/1.1 answers in request order, so
 * a FIFO pairs them even when a client pipelines.
 *
 * <p>Bounded: a client that pipelines more than {@value #CAPACITY} requests without reading is held back (its
 * reader blocks) until responses drain. A {@link ReentrantLock}, not {@code synchronized}, so that waiting virtual
 * threads do not pin their carrier on Java 21.
 */
final class HttpExchanges {

  static final int CAPACITY = 256;

  /**
   * One request waiting for its response.
   *
   * @param method the request method
   * @param fault the rule that hit it, or null
   */
  record Exchange(String method, @Nullable HttpFault fault) {
    boolean injected() {
      return fault != null && fault.response() != null;
    }
  }

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notFull = lock.newCondition();
  private final ArrayDeque<Exchange> queue = new ArrayDeque<>();

  /** Adds a forwarded request, waiting while the queue is full. */
  void add(Exchange exchange) throws InterruptedException {
    lock.lockInterruptibly();
    try {
      while (queue.size() >= CAPACITY) {
        notFull.await();
      }
      queue.addLast(exchange);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Adds a request answered by the proxy; nothing is added after it, since the connection ends with it.
   *
   * @return true when nothing is outstanding before it, so the response side must be woken
   */
  boolean addInjected(Exchange exchange) {
    lock.lock();
    try {
      queue.addLast(exchange);
      return queue.size() == 1;
    } finally {
      lock.unlock();
    }
  }

  /** The oldest request still waiting, or null. */
  @Nullable Exchange peek() {
    lock.lock();
    try {
      return queue.peekFirst();
    } finally {
      lock.unlock();
    }
  }

  /** Removes the oldest request, whose final response has ended, and returns the next one, or null. */
  @Nullable Exchange completeAndPeek() {
    lock.lock();
    try {
      queue.pollFirst();
      notFull.signalAll();
      return queue.peekFirst();
    } finally {
      lock.unlock();
    }
  }

  int size() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }
}
