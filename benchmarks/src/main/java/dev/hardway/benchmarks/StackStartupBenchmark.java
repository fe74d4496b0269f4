package dev.hardway.benchmarks;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * How long the whole local AWS stack (S3, DynamoDB + Streams, Kinesis, STS, Redis, LDAP) takes to start, measured the
 * way a test run meets it: in a fresh JVM each time, from JVM start and from the {@code LocalAws.start} call until
 * every server answers. Baseline: the same servers started one after another ({@code parallelStart(false)}).
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl benchmarks exec:exec
 * -Dbench.main=dev.hardway.benchmarks.StackStartupBenchmark -Dbench.args=7}
 * (the argument is the number of fresh JVMs per mode; the Kinesis stand-in must have been installed once before, as
 * any earlier test run does).
 */
public final class StackStartupBenchmark {

  private StackStartupBenchmark() {}

  /**
   * Runs the benchmark.
   *
   * @param args the number of runs per mode (default 5), or {@code --probe parallel|sequential} in the child JVM
   * @throws Exception when a child JVM fails
   */
  public static void main(String[] args) throws Exception {
    if (args.length == 2 && args[0].equals("--probe")) {
      probe(args[1].equals("parallel"));
      return;
    }
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    run(runs, "parallel");     // warms the OS page cache for both modes; its figures are discarded
    System.out.printf("%-11s %5s %14s %14s%n", "mode", "runs", "start() ms", "JVM-to-ready ms");
    for (String mode : List.of("parallel", "sequential")) {
      List<long[]> results = run(runs, mode);
      System.out.printf("%-11s %5d %14s %14s%n", mode, runs, stats(results, 0), stats(results, 1));
    }
  }

  private static List<long[]> run(int runs, String mode) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<long[]> results = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
          StackStartupBenchmark.class.getName(), "--probe", mode).redirectErrorStream(true).start();
      String result = null;
      StringBuilder all = new StringBuilder();
      try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = out.readLine()) != null) {
          all.append(line).append('\n');
          if (line.startsWith("RESULT ")) {
            result = line;
          }
        }
      }
      if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0 || result == null) {
        throw new IllegalStateException("probe failed:\n" + all);
      }
      String[] parts = result.split(" ");
      results.add(new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])});
    }
    return results;
  }

  private static void probe(boolean parallel) {
    long t0 = System.nanoTime();
    try (LocalAws aws = LocalAws.builder().services(Service.values()).parallelStart(parallel).start()) {
      long startMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      long sinceJvmStart = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
      System.out.println("RESULT " + startMillis + " " + sinceJvmStart + " " + aws.startTimes());
    }
  }

  private static String stats(List<long[]> results, int column) {
    List<Long> values = new ArrayList<>();
    results.forEach(r -> values.add(r[column]));
    Collections.sort(values);
    return "p50 " + values.get(values.size() / 2) + ", max " + values.get(values.size() - 1);
  }
}
