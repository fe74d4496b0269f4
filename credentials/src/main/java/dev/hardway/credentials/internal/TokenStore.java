package dev.hardway.credentials.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Session tokens (IMDSv2 tokens, container authorization tokens): 32 bytes from a CSPRNG, URL-safe Base64, held by
 * their SHA-256 digest so that looking one up leaks nothing through timing about the tokens held. The store is
 * bounded: past its capacity the oldest token goes first, and every eviction is counted.
 *
 * @param <V> what a token stands for
 */
public final class TokenStore<V> {
  /** Longest string that can be a token of ours; longer ones are refused before hashing. */
  public static final int TOKEN_LENGTH = 43;

  private final int capacity;
  private final InstantSource clock;
  private final SecureRandom random;
  private final Map<ByteBuffer, Entry<V>> tokens = new LinkedHashMap<>();
  private final LongAdder evicted = new LongAdder();

  private record Entry<V>(V value, Instant expiresAt) {}

  /**
   * Creates a store.
   *
   * @param capacity most tokens held
   * @param clock the time source for expiry
   * @param random the CSPRNG
   */
  public TokenStore(int capacity, InstantSource clock, SecureRandom random) {
    this.capacity = capacity;
    this.clock = clock;
    this.random = random;
  }

  /**
   * Issues a token.
   *
   * @param value what it stands for
   * @param ttl how long it lives
   * @return the token
   */
  public String issue(V value, Duration ttl) {
    byte[] raw = new byte[32];
    random.nextBytes(raw);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    Instant expiresAt = clock.instant().plus(ttl);
    synchronized (tokens) {
      purgeExpired();
      while (tokens.size() >= capacity) {
        Iterator<?> it = tokens.values().iterator();
        it.next();
        it.remove();
        evicted.increment();
      }
      tokens.put(digest(token), new Entry<>(value, expiresAt));
    }
    return token;
  }

  /**
   * What a live token stands for.
   *
   * @param token the token presented
   * @return its value, or null when it is unknown, evicted or expired
   */
  public @Nullable V lookup(String token) {
    if (token.length() != TOKEN_LENGTH) {
      return null;
    }
    ByteBuffer key = digest(token);
    synchronized (tokens) {
      Entry<V> e = tokens.get(key);
      if (e == null) {
        return null;
      }
      if (!clock.instant().isBefore(e.expiresAt())) {
        tokens.remove(key);
        return null;
      }
      return e.value();
    }
  }

  /**
   * Forgets a token.
   *
   * @param token the token
   * @return whether it was held
   */
  public boolean revoke(String token) {
    synchronized (tokens) {
      return tokens.remove(digest(token)) != null;
    }
  }

  /**
   * Tokens held now.
   *
   * @return the count
   */
  public int size() {
    synchronized (tokens) {
      return tokens.size();
    }
  }

  /**
   * Tokens dropped because the store was full.
   *
   * @return the count
   */
  public long evicted() {
    return evicted.sum();
  }

  private void purgeExpired() {
    Instant now = clock.instant();
    // Insertion order is close to expiry order for one TTL; a full sweep is bounded by the capacity.
    Iterator<Entry<V>> it = tokens.values().iterator();
    int scanned = 0;
    while (it.hasNext() && scanned++ < 64) {
      if (!now.isBefore(it.next().expiresAt())) {
        it.remove();
      }
    }
  }

  private static ByteBuffer digest(String token) {
    try {
      return ByteBuffer.wrap(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
  }
}
