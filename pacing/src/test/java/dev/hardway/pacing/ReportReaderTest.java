package dev.hardway.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/** The coordinator's reading of the report stream on the test kit's Kinesis. */
@LocalAwsTest(Service.KINESIS)
class ReportReaderTest {

  private static SpendReport report(BoxId box, long spent) {
    return new SpendReport(box, "c1", 3, spent, 0, spent, 0, 10, spent, 1, 1000);
  }

  private static void put(KinesisClient kinesis, String stream, String key, byte[] data) {
    kinesis.putRecord(b -> b.streamName(stream).partitionKey(key).data(SdkBytes.fromByteArray(data)));
  }

  @Test
  void readsEveryShard_skipsPoison_andResumesFromItsPositions(KinesisClient kinesis, Fresh fresh) {
    String stream = fresh.stream(2);
    BoxId a = new BoxId("us-east", "a");
    BoxId b = new BoxId("eu-west", "b");
    put(kinesis, stream, a.toString(), WireFormat.encodeReports(a, 1000, List.of(report(a, 100))));
    put(kinesis, stream, b.toString(), WireFormat.encodeReports(b, 1000, List.of(report(b, 200))));
    put(kinesis, stream, "junk", "not a report".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    ReportReader reader = new ReportReader(kinesis, stream, java.util.Map.of());
    List<SpendReport> first = reader.poll();
    assertThat(first).extracting(SpendReport::box).containsExactlyInAnyOrder(a, b);
    assertThat(reader.malformed()).isEqualTo(1);
    assertThat(reader.poll()).isEmpty();

    put(kinesis, stream, a.toString(), WireFormat.encodeReports(a, 2000, List.of(report(a, 150))));
    ReportReader resumed = new ReportReader(kinesis, stream, reader.positions());
    assertThat(resumed.poll()).extracting(SpendReport::spentMicros).containsExactly(150L);

    ReportReader replaying = new ReportReader(kinesis, stream, java.util.Map.of());
    assertThat(replaying.poll()).hasSize(3);
  }
}
