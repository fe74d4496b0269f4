package dev.hardway.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A short day of the demo, with every fault, keeps its invariants and writes its report. */
class DemoTest {

  @Test
  void aShortDay_withEveryFault_keepsTheInvariants_andWritesTheReport(@TempDir Path out) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DemoResult r;
    try (PrintStream print = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      r = Demo.run(DemoOptions.parse("--day", "12s", "--rate", "200", "--users", "2000", "--out", out.toString()),
          print);
    }
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(r.broken()).as(text).isEmpty();
    assertThat(r.auctions()).isPositive();
    assertThat(r.midRecords()).isEqualTo(r.auctions());
    assertThat(r.recountRecords()).isEqualTo(r.midRecords());
    assertThat(r.pacerSpentMicros()).isPositive().isLessThanOrEqualTo(r.budgetMicros());
    assertThat(r.recountSpentMicros()).isEqualTo(r.pacerSpentMicros());
    assertThat(text).contains("Every invariant held.").contains("the pacing coordinator goes away")
        .contains("ap-south is cut off").contains("eu-west loses its Redis tier").contains("use bidder-v2");
    assertThat(Files.readString(r.html())).contains("<svg").contains("Invariants").contains("fixed split");
    assertThat(Files.readString(r.text())).contains("Profiles through procache")
        .contains("mapped with the s3pager (USERFAULTFD)");
  }

  @Test
  void badFlags_areRefused_namingTheFlagAndTheValue() {
    assertThatThrownBy(() -> DemoOptions.parse("--day", "2s")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--day must be between 4s and 1h, got 2s");
    assertThatThrownBy(() -> DemoOptions.parse("--boxes", "nine")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--boxes must be a whole number, got \"nine\"");
    assertThatThrownBy(() -> DemoOptions.parse("--faults", "meteor")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got \"meteor\"");
    assertThatThrownBy(() -> DemoOptions.parse("--colour")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--colour");
    assertThat(DemoOptions.parse("--faults", "none").faults()).isEmpty();
  }
}
