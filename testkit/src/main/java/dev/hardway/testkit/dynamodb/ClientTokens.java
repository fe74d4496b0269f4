package dev.hardway.testkit.dynamodb;

import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * TransactWriteItems client request tokens of the last ten minutes. The SDK puts a token on every call and keeps it
 * when it retries, so a retry of a transaction that did commit must not commit again (DynamoDB's idempotency).
 * Bounded: beyond {@link #MAX_TOKENS} the oldest are forgotten first.
 */
final class ClientTokens {

  /** How long DynamoDB honours a client token after the call that used it completed. */
  static final Duration WINDOW = Duration.ofMinutes(10);
  static final int MAX_TOKENS = 100_000;

  private record Use(byte[] digest, Instant completed) {}

  private final Map<String, Use> uses = new LinkedHashMap<>();

  /**
   * Whether a committed call already used this token with the same request.
   *
   * @throws ServiceError IdempotentParameterMismatchException when the token came with a different request
   */
  synchronized boolean alreadyCommitted(String token, byte[] digest, Instant now) {
    forgetExpired(now);
    Use use = uses.get(token);
    if (use == null) {
      return false;
    }
    if (!MessageDigest.isEqual(use.digest(), digest)) {
      throw ServiceError.idempotentParameterMismatch("The ClientRequestToken " + token + " was used within the last "
          + WINDOW.toMinutes() + " minutes, at " + use.completed() + ", by a different TransactWriteItems request");
    }
    return true;
  }

  synchronized void committed(String token, byte[] digest, Instant now) {
    uses.put(token, new Use(digest, now));
    Iterator<Map.Entry<String, Use>> oldest = uses.entrySet().iterator();
    while (uses.size() > MAX_TOKENS && oldest.hasNext()) {
      oldest.next();
      oldest.remove();
    }
  }

  private void forgetExpired(Instant now) {
    Iterator<Map.Entry<String, Use>> it = uses.entrySet().iterator();
    while (it.hasNext()) {
      if (it.next().getValue().completed().plus(WINDOW).isBefore(now)) {
        it.remove();
      } else {
        // Insertion order is completion order, so the rest are younger.
        break;
      }
    }
  }
}
