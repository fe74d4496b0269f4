package dev.hardway.testkit.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server run as a child process that cannot outlive this JVM.
 *
 * <p>A JVM killed with SIGKILL runs no shutdown hook, so the child is started under a small POSIX shell watchdog: it
 * starts the server, checks every second that this JVM is still alive, and stops the server (TERM, then KILL after
 * five seconds) once it is not. {@link #close()} sends TERM to the watchdog, which forwards it. The server's output
 * (stdout and stderr merged) is kept as its last {@value #TAIL_LINES} lines for error messages and logged at debug.
 */
public final class ChildProcess implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ChildProcess.class);
  private static final int TAIL_LINES = 60;

  // $1 is this JVM's pid, the rest the command. `sleep 1 & wait $!` keeps the shell responsive to TERM (a foreground
  // sleep would delay the trap). The trap only forwards TERM; the loop then sees the server gone and exits.
  private static final String WATCHDOG = """
      parent=$1; shift
      "$@" &
      child=$!
      trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
      while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do
        sleep 1 & wait $!
      done
      kill -TERM "$child" 2>/dev/null
      i=0
      while kill -0 "$child" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
      kill -KILL "$child" 2>/dev/null
      wait "$child"
      """;

  private final String name;
  private final Process watchdog;
  private final ArrayDeque<String> tail = new ArrayDeque<>();

  private ChildProcess(String name, Process watchdog) {
    this.name = name;
    this.watchdog = watchdog;
    Thread.ofPlatform().daemon().name("hardway-" + name + "-output").start(this::pumpOutput);
  }

  /**
   * Starts a command under the watchdog.
   *
   * @param name a short name for logs and messages
   * @param command the command and its arguments
   * @param workDir the working directory
   * @param environment variables to add to this JVM's environment
   * @return the running process
   * @throws IllegalStateException when the shell cannot be started
   */
  public static ChildProcess start(String name, List<String> command, Path workDir, Map<String, String> environment) {
    List<String> full = new ArrayList<>(List.of("/bin/sh", "-c", WATCHDOG, "hardway-watchdog",
        Long.toString(ProcessHandle.current().pid())));
    full.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(full).directory(workDir.toFile()).redirectErrorStream(true);
    pb.environment().putAll(environment);
    try {
      return new ChildProcess(name, pb.start());
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + name + " (" + String.join(" ", command) + "): "
          + e.getMessage(), e);
    }
  }

  /**
   * Whether the server (through its watchdog) is still running.
   *
   * @return true while running
   */
  public boolean isAlive() {
    return watchdog.isAlive();
  }

  /**
   * The last lines the server printed.
   *
   * @return its output tail, oldest line first
   */
  public String outputTail() {
    synchronized (tail) {
      return String.join("\n", tail);
    }
  }

  /** Stops the server and its watchdog: TERM first, then KILL for whatever is left after the grace period. */
  private void stop(Duration grace) {
    if (!watchdog.isAlive()) {
      return;
    }
    List<ProcessHandle> descendants = watchdog.toHandle().descendants().toList();
    watchdog.destroy();
    try {
      if (!watchdog.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn("{} did not stop within {}; killing it", name, grace);
        descendants.forEach(ProcessHandle::destroyForcibly);
        watchdog.destroyForcibly().waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      descendants.forEach(ProcessHandle::destroyForcibly);
      watchdog.destroyForcibly();
    }
  }

  /** Stops the server with a five-second grace period; idempotent. */
  @Override
  public void close() {
    stop(Duration.ofSeconds(5));
  }

  private void pumpOutput() {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(watchdog.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        LOG.debug("[{}] {}", name, line);
        synchronized (tail) {
          if (tail.size() == TAIL_LINES) {
            tail.removeFirst();
          }
          tail.addLast(line);
        }
      }
    } catch (IOException e) {
      LOG.debug("[{}] output closed: {}", name, e.getMessage());
    }
  }

  @Override
  public String toString() {
    return name + "(pid " + watchdog.pid() + ")";
  }
}
