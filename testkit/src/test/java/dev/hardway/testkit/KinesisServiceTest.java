package dev.hardway.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/** Kinesis (kinesis-mock in a node child process) through the SDK's Kinesis clients. */
@LocalAwsTest(Service.KINESIS)
class KinesisServiceTest {

  @Test
  void putRecordsThenGetRecords_returnsThemInOrder(KinesisClient kinesis, Fresh fresh) {
    String stream = fresh.stream(1);
    List<PutRecordsRequestEntry> entries = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      entries.add(PutRecordsRequestEntry.builder().partitionKey("pk")
          .data(SdkBytes.fromUtf8String("event-" + i)).build());
    }

    PutRecordsResponse put = kinesis.putRecords(b -> b.streamName(stream).records(entries));
    String shard = kinesis.listShards(b -> b.streamName(stream)).shards().get(0).shardId();
    String iterator = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shard)
        .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
    List<String> read = new ArrayList<>();
    String[] next = {iterator};
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
      var page = kinesis.getRecords(b -> b.shardIterator(next[0]));
      page.records().stream().map(Record::data).map(SdkBytes::asUtf8String).forEach(read::add);
      next[0] = page.nextShardIterator();
      return read.size() >= 5;
    });

    assertThat(put.failedRecordCount()).isZero();
    assertThat(read).containsExactly("event-0", "event-1", "event-2", "event-3", "event-4");
  }

  @Test
  void asyncClient_putsRecords(KinesisAsyncClient kinesis, Fresh fresh) throws Exception {
    String stream = fresh.stream(2);

    var response = kinesis.putRecord(b -> b.streamName(stream).partitionKey("k")
        .data(SdkBytes.fromUtf8String("hello"))).get(30, TimeUnit.SECONDS);

    assertThat(response.shardId()).startsWith("shardId-");
    assertThat(response.sequenceNumber()).isNotBlank();
  }

  @Test
  void clientsResettingTheirConnections_leaveKinesisServing(LocalAws aws, KinesisClient kinesis, Fresh fresh)
      throws Exception {
    String stream = fresh.stream(1);
    URI endpoint = aws.endpoint(Service.KINESIS);
    byte[] request = ("POST / HTTP/1.1\r\nHost: " + endpoint.getHost() + "\r\n"
        + "X-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Type: application/x-amz-json-1.1\r\n"
        + "Content-Length: 2\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII);
    // Resets of every kind: idle, in the middle of a request, and with a request in flight. Without the relay,
    // kinesis-mock stops listening after the first.
    for (int i = 0; i < 30; i++) {
      try (Socket s = new Socket(endpoint.getHost(), endpoint.getPort())) {
        s.setSoLinger(true, 0);
        if (i % 3 == 1) {
          s.getOutputStream().write(request, 0, 20);
        } else if (i % 3 == 2) {
          s.getOutputStream().write(request);
        }
      }
    }
    kinesis.putRecord(b -> b.streamName(stream).partitionKey("k").data(SdkBytes.fromUtf8String("after resets")));
    assertThat(kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().streamName())
        .isEqualTo(stream);
  }
}
