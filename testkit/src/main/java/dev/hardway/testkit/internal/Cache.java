package dev.hardway.testkit.internal;

import java.nio.file.Path;

/** Where the test kit keeps what it unpacks or installs once per machine (the Kinesis stand-in, redis-server). */
final class Cache {

  private Cache() {}

  /**
   * The test kit's cache folder: {@code $XDG_CACHE_HOME/hardway}, else {@code ~/.cache/hardway}.
   *
   * @return the folder (not created)
   */
  static Path root() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return cache.resolve("hardway");
  }
}
