package dev.hardway.procache;

/**
 * Reads a key from the home region: the read-through behind the cache's tiers. Runs on the cache's home executor,
 * never on the caller's thread, so a slow home region costs the caller at most the deadline.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
@FunctionalInterface
public interface HomeLoader<K, V> {

  /**
   * Loads a key.
   *
   * @param key the key
   * @return its value with its version, or {@link Versioned#absent} when the home region has no value
   * @throws Exception when the home region cannot answer (counted; the cache answers stale or unknown)
   */
  Versioned<V> load(K key) throws Exception;
}
