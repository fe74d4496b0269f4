package dev.hardway.s3pager;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The test's end of a {@link ReaderMain} child JVM, which opens one object and reads it on command. Closing it ends
 * the child (forcibly, if it does not quit).
 */
final class Reader implements AutoCloseable {
  private final Process process;
  private final BufferedWriter in;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final long handlerPid;
  private final String mode;

  private Reader(Process process) {
    this.process = process;
    this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
    Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader out = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l; (l = out.readLine()) != null; ) {
          lines.add(l);
        }
      } catch (IOException e) {
        lines.add("ERR pipe: " + e);
      }
      lines.add("EOF");
    });
    String open = next(Duration.ofSeconds(60));
    if (!open.startsWith("OPEN ")) {
      process.destroyForcibly();
      throw new AssertionError("the reader did not open its object: " + open + " (see target/ReaderMain.err)");
    }
    String[] f = open.split(" ");
    this.handlerPid = Long.parseLong(f[1]);
    this.mode = f[2];
  }

  /**
   * Starts a reader of an object put with {@link Objects3#put}.
   *
   * @param endpoint the S3 endpoint the child uses (usually the fault proxy's)
   * @param options pager options for {@link ReaderMain}, e.g. {@code "chunk=1048576"}
   */
  static Reader open(URI endpoint, String region, String bucket, String key, int size, String... options) {
    List<String> args = new ArrayList<>(List.of(endpoint.toString(), region, bucket, key, Integer.toString(size)));
    args.addAll(List.of(options));
    try {
      return new Reader(ChildJvm.start(ReaderMain.class, List.of("-Xmx512m"), args.toArray(String[]::new)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  long handlerPid() {
    return handlerPid;
  }

  String mode() {
    return mode;
  }

  /** Sends a command and returns its one-line answer; fails the test if none comes within the timeout. */
  String call(String command, Duration timeout) {
    try {
      in.write(command);
      in.newLine();
      in.flush();
    } catch (IOException e) {
      throw new AssertionError("the reader is gone before '" + command + "': " + e, e);
    }
    return next(timeout);
  }

  /** A command that must answer {@code OK}; the rest of the answer. */
  String ok(String command, Duration timeout) {
    String answer = call(command, timeout);
    assertThat(answer).as("answer to '%s'", command).startsWith("OK");
    return answer.substring(2).strip();
  }

  private String next(Duration timeout) {
    try {
      String line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (line == null) {
        throw new AssertionError("the reader did not answer within " + timeout);
      }
      return line;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** A counter from the answer to {@code stats}. */
  static long stat(String stats, String name) {
    for (String field : stats.split(" ")) {
      if (field.startsWith(name + "=")) {
        return Long.parseLong(field.substring(name.length() + 1));
      }
    }
    throw new AssertionError("no " + name + " in " + stats);
  }

  @Override
  public void close() {
    try {
      in.write("quit");
      in.newLine();
      in.flush();
    } catch (IOException e) {
      // Gone already.
    }
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
