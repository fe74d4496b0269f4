package dev.hardway.testkit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A {@code redis-server} child process: the binary bundled in {@code com.github.codemonstur:embedded-redis}
 * (Redis 6.2, Linux and macOS on x86-64 and ARM64), or another one named by the system property
 * {@value #BINARY_PROPERTY}. It keeps nothing on disk and dies with this JVM ({@link ChildProcess}).
 */
public final class RedisServer {

  /** System property naming a {@code redis-server} binary to run instead of the bundled one. */
  public static final String BINARY_PROPERTY = "hardway.testkit.redis.binary";

  private RedisServer() {}

  /**
   * Starts Redis.
   *
   * @param host the address to bind
   * @param port the port, 0 for a free one
   * @param password a password clients must send ({@code AUTH}), or null for none
   * @param timeout how long to wait for it to listen
   * @return the running server; its endpoint carries the password
   * @throws IllegalStateException when there is no binary for this platform or it does not start
   */
  public static ChildServer start(String host, int port, @Nullable String password, Duration timeout) {
    Path binary = binary();
    return ChildServer.start("redis", "redis", password != null ? ":" + password : null, host, port, p -> {
      List<String> command = new ArrayList<>(List.of(binary.toString(),
          "--bind", host, "--port", Integer.toString(p), "--save", "", "--appendonly", "no",
          "--daemonize", "no", "--loglevel", "warning", "--databases", "16"));
      if (password != null) {
        command.addAll(List.of("--requirepass", password));
      }
      return command;
    }, binary.getParent(), p -> Map.of(), timeout);
  }

  private static Path binary() {
    String configured = System.getProperty(BINARY_PROPERTY);
    if (configured != null && !configured.isBlank()) {
      Path path = Path.of(configured);
      if (!Files.isExecutable(path)) {
        throw new IllegalStateException(BINARY_PROPERTY + " names '" + configured + "', which is not an executable");
      }
      return path;
    }
    String resource = bundledName();
    Path cache = Cache.root().resolve("redis");
    Path target = cache.resolve(resource);
    if (Files.isExecutable(target)) {
      return target;
    }
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    ClassLoader loader = context != null ? context : RedisServer.class.getClassLoader();
    try (InputStream in = loader.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("no bundled redis-server '" + resource + "' on the class path (it comes"
            + " with com.github.codemonstur:embedded-redis); set " + BINARY_PROPERTY + " to a redis-server binary");
      }
      Files.createDirectories(cache);
      Path tmp = Files.createTempFile(cache, resource, ".tmp");
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack the bundled redis-server to " + target + ": " + e.getMessage(), e);
    }
  }

  /** The binaries embedded-redis 1.4 ships, by platform. */
  private static String bundledName() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    boolean arm = arch.equals("aarch64") || arch.equals("arm64");
    boolean x64 = arch.equals("amd64") || arch.equals("x86_64");
    if (os.contains("linux") && x64) {
      return "redis-server-6.2.6-v5-linux-amd64";
    }
    if (os.contains("linux") && arm) {
      return "redis-server-6.2.7-linux-arm64";
    }
    if (os.contains("mac") && x64) {
      return "redis-server-6.2.6-v5-darwin-amd64";
    }
    if (os.contains("mac") && arm) {
      return "redis-server-6.2.6-v5-darwin-arm64";
    }
    throw new IllegalStateException("no bundled redis-server for " + os + "/" + arch + "; set " + BINARY_PROPERTY
        + " to a redis-server binary");
  }

}
