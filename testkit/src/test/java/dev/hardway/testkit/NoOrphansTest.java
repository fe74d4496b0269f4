package dev.hardway.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Child processes (Redis, Kinesis) must die with the JVM, also when it is killed with SIGKILL. */
class NoOrphansTest {

  @Test
  void childServers_dieWhenTheJvmIsKilledWithSigkill() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process jvm = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        OrphanProbe.class.getName())
        .redirectErrorStream(true)
        .start();
    List<ProcessHandle> children;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      StringBuilder seen = new StringBuilder();
      do {
        line = out.readLine();
        if (line != null) {
          seen.append(line).append('\n');
        }
      } while (line != null && !line.startsWith("DESCENDANTS "));
      assertThat(line).as("probe output:\n%s", seen).isNotNull();
      children = Arrays.stream(line.split(" ")[1].split(","))
          .map(Long::parseLong)
          .map(ProcessHandle::of)
          .flatMap(Optional::stream)
          .toList();
      // The watchdog shells and the servers (redis-server, node): at least one of each per service.
      assertThat(children).hasSizeGreaterThanOrEqualTo(4);
      assertThat(children).allMatch(ProcessHandle::isAlive);

      jvm.destroyForcibly();  // SIGKILL: no shutdown hook runs
      assertThat(jvm.waitFor(10, TimeUnit.SECONDS)).isTrue();
    } finally {
      jvm.destroyForcibly();
    }

    Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
        .untilAsserted(() -> assertThat(children).noneMatch(ProcessHandle::isAlive));
  }
}
