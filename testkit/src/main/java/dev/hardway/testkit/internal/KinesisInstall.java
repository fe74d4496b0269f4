package dev.hardway.testkit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Installs the Kinesis stand-in (npm package {@code kinesis-local}, kinesis-mock built for Node.js) from the
 * {@code package.json} and {@code package-lock.json} shipped inside the test kit, with {@code npm ci}.
 *
 * <p>The install lives in a cache folder named after the lock file's hash, so a changed lock file installs afresh and
 * an unchanged one is installed once per machine. Concurrent JVMs (parallel builds) serialise on a file lock.
 */
public final class KinesisInstall {

  /** System property naming a folder to install into (or that already holds an install). */
  public static final String HOME_PROPERTY = "hardway.testkit.kinesis.home";

  private static final String RESOURCES = "/dev/hardway/testkit/kinesis/";
  private static final String MARKER = ".hardway-installed";
  private static final int MIN_NODE_MAJOR = 20;
  private static final Duration NPM_TIMEOUT = Duration.ofMinutes(5);

  private KinesisInstall() {}

  /**
   * The installed package folder, installing it first if needed.
   *
   * @return the folder holding {@code main.js}, to be used as the working directory
   * @throws IllegalStateException when Node.js or npm is missing or too old, or the install fails
   */
  public static Path ensureInstalled() {
    byte[] packageJson = resource("package.json");
    byte[] lockFile = resource("package-lock.json");
    Path home = home(lockFile);
    Path packageDir = home.resolve("node_modules").resolve("kinesis-local");
    if (Files.isRegularFile(home.resolve(MARKER)) && Files.isRegularFile(packageDir.resolve("main.js"))) {
      return packageDir;
    }
    checkNode();
    try {
      Files.createDirectories(home);
      try (FileChannel channel = FileChannel.open(home.resolve(".lock"),
          StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock lock = channel.lock();
        try {
          installLocked(home, packageDir, packageJson, lockFile);
        } finally {
          lock.release();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot install the Kinesis stand-in into " + home + ": " + e.getMessage(), e);
    }
    return packageDir;
  }

  private static void installLocked(Path home, Path packageDir, byte[] packageJson, byte[] lockFile)
      throws IOException {
    // Another JVM may have finished the install while this one waited for the lock.
    if (Files.isRegularFile(home.resolve(MARKER)) && Files.isRegularFile(packageDir.resolve("main.js"))) {
      return;
    }
    Files.write(home.resolve("package.json"), packageJson);
    Files.write(home.resolve("package-lock.json"), lockFile);
    run(home, List.of("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"));
    if (!Files.isRegularFile(packageDir.resolve("main.js"))) {
      throw new IllegalStateException("npm ci in " + home + " finished but " + packageDir.resolve("main.js")
          + " is missing");
    }
    Path marker = home.resolve(MARKER + ".tmp");
    Files.writeString(marker, "installed\n");
    Files.move(marker, home.resolve(MARKER), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static Path home(byte[] lock) {
    String configured = System.getProperty(HOME_PROPERTY);
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath();
    }
    return Cache.root().resolve("kinesis-local-" + sha256(lock).substring(0, 12));
  }

  /**
   * Writes the preload script that keeps kinesis-mock on the loopback address next to an install.
   *
   * @param packageDir the folder {@link #ensureInstalled()} returned
   * @return the script's path, for {@code node --require}
   */
  public static Path loopbackPreload(Path packageDir) {
    byte[] script = resource("loopback.js");
    Path target = packageDir.getParent().getParent().resolve("hardway-loopback.js");
    try {
      if (!Files.isRegularFile(target) || !java.util.Arrays.equals(Files.readAllBytes(target), script)) {
        Path tmp = Files.createTempFile(target.getParent(), "hardway-loopback", ".tmp");
        Files.write(tmp, script);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    }
  }

  /**
   * Checks that {@code node} is on the PATH and new enough.
   *
   * @throws IllegalStateException naming what is missing and what was found
   */
  static void checkNode() {
    String version = output(List.of("node", "--version"));
    if (version == null) {
      throw new IllegalStateException("the Kinesis stand-in needs Node.js " + MIN_NODE_MAJOR
          + "+ and npm on the PATH, and 'node --version' did not run; install Node.js or leave Kinesis out");
    }
    Matcher m = Pattern.compile("v?(\\d+)\\.").matcher(version.strip());
    if (!m.lookingAt() || Integer.parseInt(m.group(1)) < MIN_NODE_MAJOR) {
      throw new IllegalStateException("the Kinesis stand-in needs Node.js " + MIN_NODE_MAJOR + " or newer, found '"
          + version.strip() + "'");
    }
  }

  private static @Nullable String output(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static void run(Path dir, List<String> command) throws IOException {
    Process p;
    try {
      p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(nullDevice())).start();
    } catch (IOException e) {
      throw new IllegalStateException("the Kinesis stand-in is installed with '" + String.join(" ", command)
          + "', which could not start (" + e.getMessage() + "): is npm on the PATH?", e);
    }
    byte[] out = p.getInputStream().readAllBytes();
    try {
      if (!p.waitFor(NPM_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("'" + String.join(" ", command) + "' did not finish within " + NPM_TIMEOUT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IllegalStateException("interrupted while installing the Kinesis stand-in", e);
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException("'" + String.join(" ", command) + "' in " + dir + " failed with exit code "
          + p.exitValue() + ":\n" + new String(out, StandardCharsets.UTF_8).strip());
    }
  }

  private static java.io.File nullDevice() {
    return new java.io.File(System.getProperty("os.name", "").startsWith("Windows") ? "NUL" : "/dev/null");
  }

  private static byte[] resource(String name) {
    try (InputStream in = KinesisInstall.class.getResourceAsStream(RESOURCES + name)) {
      if (in == null) {
        throw new IllegalStateException("the test kit jar lacks " + RESOURCES + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The environment for a kinesis-mock process.
   *
   * @param host the address to listen on (read by the loopback preload script)
   * @param plainPort the HTTP port
   * @param tlsPort the HTTPS port (kinesis-mock always opens one)
   * @param region the default region
   * @param accountId the default account
   * @param operationDelay how long stream operations (create, delete, reshard) take to settle
   * @return variables to set
   */
  public static Map<String, String> environment(
      String host, int plainPort, int tlsPort, String region, String accountId, Duration operationDelay) {
    String delay = operationDelay.toMillis() + "ms";
    return Map.ofEntries(
        Map.entry("HARDWAY_BIND_HOST", host),
        Map.entry("KINESIS_MOCK_PLAIN_PORT", Integer.toString(plainPort)),
        Map.entry("KINESIS_MOCK_TLS_PORT", Integer.toString(tlsPort)),
        Map.entry("AWS_REGION", region),
        Map.entry("AWS_ACCOUNT_ID", accountId),
        Map.entry("LOG_LEVEL", "WARN"),
        Map.entry("CREATE_STREAM_DURATION", delay),
        Map.entry("DELETE_STREAM_DURATION", delay),
        Map.entry("REGISTER_STREAM_CONSUMER_DURATION", delay),
        Map.entry("DEREGISTER_STREAM_CONSUMER_DURATION", delay),
        Map.entry("START_STREAM_ENCRYPTION_DURATION", delay),
        Map.entry("STOP_STREAM_ENCRYPTION_DURATION", delay),
        Map.entry("MERGE_SHARDS_DURATION", delay),
        Map.entry("SPLIT_SHARD_DURATION", delay),
        Map.entry("UPDATE_SHARD_COUNT_DURATION", delay),
        Map.entry("UPDATE_STREAM_MODE_DURATION", delay),
        Map.entry("SHOULD_PERSIST_DATA", "false"));
  }
}
