package dev.hardway.benchmarks.credentials;

import dev.hardway.credentials.HardwayCredentialsProvider;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/**
 * {@code resolveCredentials()} on a warm provider, which every signed SDK request calls: the Hardway chain
 * ({@code hardway}, a volatile read) against the SDK's {@code DefaultCredentialsProvider} ({@code sdkDefault}, the
 * baseline), both over the same default chain and the same credentials (system properties, the chain's first
 * source, so neither touches the network).
 *
 * <p>Goal: at most 25 ns/op, 0 B/op, and at least 3x faster than the SDK's. Run: {@code ./mvnw -q install
 * -DskipTests && ./mvnw -q -pl benchmarks exec:exec -Dbench.args="CredentialsChainBenchmark -prof gc"}. Results
 * are in {@code benchmarks/README.md}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Daws.accessKeyId=AKIABENCHMARK0000001", "-Daws.secretAccessKey=secret"})
public class CredentialsChainBenchmark {
  private HardwayCredentialsProvider hardway;
  private DefaultCredentialsProvider sdk;

  @Setup(Level.Trial)
  public void setUp() {
    hardway = HardwayCredentialsProvider.create();
    sdk = DefaultCredentialsProvider.builder().build();
    // Warm both: the first call resolves; every later one is the cached path measured here.
    if (!hardway.resolveCredentials().accessKeyId().equals(sdk.resolveCredentials().accessKeyId())) {
      throw new IllegalStateException("the two providers resolved different credentials");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    hardway.close();
    sdk.close();
  }

  @Benchmark
  public AwsCredentials hardway() {
    return hardway.resolveCredentials();
  }

  @Benchmark
  public AwsCredentials sdkDefault() {
    return sdk.resolveCredentials();
  }
}
