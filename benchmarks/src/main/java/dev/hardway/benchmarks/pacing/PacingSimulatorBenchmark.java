package dev.hardway.benchmarks.pacing;

import dev.hardway.pacing.sim.SimulationReport;
import dev.hardway.pacing.sim.Simulator;
import java.util.List;

/**
 * Pacing end to end: every simulator scenario (the target, each fault, the baselines), the real {@code Pacer} and
 * {@code Coordinator} on a virtual clock, two simulated days each, the second one measured. Deterministic: only the
 * wall time varies between runs. Results are in {@code benchmarks/README.md}, section "Pacing: simulator".
 *
 * <pre>
 * ./mvnw -q -pl benchmarks exec:exec -Dbench.main=dev.hardway.benchmarks.pacing.PacingSimulatorBenchmark
 * ./mvnw -q -pl benchmarks exec:exec -Dbench.main=dev.hardway.benchmarks.pacing.PacingSimulatorBenchmark \
 *     -Dbench.args="target zipf-skew coordinator-outage-2-h-day-end"
 * </pre>
 */
public final class PacingSimulatorBenchmark {
  private PacingSimulatorBenchmark() {}

  public static void main(String[] args) {
    // exec:exec passes -h when no bench.args are given: every scenario then.
    List<String> names = args.length == 0 || args[0].equals("-h") ? Simulator.scenarioNames() : List.of(args);
    long start = System.nanoTime();
    System.out.println(SimulationReport.header());
    for (String name : names) {
      System.out.println(Simulator.run(name).row());
    }
    System.out.printf("%n%d scenarios in %.1f s (Java %s, %d cores)%n", names.size(),
        (System.nanoTime() - start) / 1e9, Runtime.version(), Runtime.getRuntime().availableProcessors());
  }
}
