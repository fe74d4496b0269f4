package dev.hardway.testkit.dynamodb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

class DynamoDbServerTest extends DynamoDbTestSupport {

  /** A reply read with the JDK's plain HTTP client, for what the SDK would hide. */
  private record RawReply(int status, String body, Map<String, List<String>> headers) {
    String header(String name) {
      return headers.entrySet().stream().filter(e -> name.equalsIgnoreCase(e.getKey()))
          .map(e -> e.getValue().get(0)).findFirst().orElse(null);
    }
  }

  private RawReply send(String method, String target, String body) throws IOException {
    HttpURLConnection connection = (HttpURLConnection) server.endpoint().resolve("/").toURL().openConnection();
    try {
      connection.setConnectTimeout(5_000);
      connection.setReadTimeout(10_000);
      connection.setRequestMethod(method);
      if (target != null) {
        connection.setRequestProperty("X-Amz-Target", target);
      }
      if (body != null) {
        connection.setDoOutput(true);
        connection.setRequestProperty("Content-Type", "application/x-amz-json-1.0");
        try (OutputStream out = connection.getOutputStream()) {
          out.write(body.getBytes(StandardCharsets.UTF_8));
        }
      }
      int status = connection.getResponseCode();
      InputStream in = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return new RawReply(status, text, connection.getHeaderFields());
    } finally {
      connection.disconnect();
    }
  }

  private RawReply post(String target, String body) throws IOException {
    return send("POST", target, body);
  }

  @Test
  void builder_whenOptionInvalid_throwsNamingOptionAndValue() {
    assertMessage(() -> DynamoDbServer.builder().port(70_000), "port", "70000");
    assertMessage(() -> DynamoDbServer.builder().port(-1), "port", "-1");
    assertMessage(() -> DynamoDbServer.builder().accountId("1234"), "accountId", "1234");
    assertMessage(() -> DynamoDbServer.builder().region("US_EAST_1"), "region", "US_EAST_1");
    assertMessage(() -> DynamoDbServer.builder().host(" "), "host", " ");
    assertMessage(() -> DynamoDbServer.builder().streamRecordLimit(0), "streamRecordLimit", "0");
    assertMessage(() -> DynamoDbServer.builder().clock(null), "clock", "null");
  }

  private static void assertMessage(Runnable call, String option, String value) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
    assertTrue(e.getMessage().contains(option) && e.getMessage().contains(value), e.getMessage());
  }

  @Test
  void start_isQuick_andEndpointMatchesPort() {
    long begin = System.nanoTime();
    try (DynamoDbServer other = server.toBuilder().port(0).start()) {
      long millis = Duration.ofNanos(System.nanoTime() - begin).toMillis();
      assertTrue(millis < 500, "start-up took " + millis + " ms");
      assertEquals(URI.create("http://127.0.0.1:" + other.port()), other.endpoint());
      assertEquals("us-east-1", other.region());
      assertEquals("000000000000", other.accountId());
    }
  }

  @Test
  void close_isIdempotent_andStopsListening() throws IOException {
    DynamoDbServer other = DynamoDbServer.builder().start();
    int port = other.port();
    other.close();
    other.close();
    assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
  }

  @Test
  void servers_haveSeparateNamespaces_butEachAcceptsAnyRegionAndCredentials() {
    String name = hashTable("namespace");
    try (DynamoDbServer other = DynamoDbServer.builder().region("eu-west-1").accountId("123456789012").start();
        DynamoDbClient client = DynamoDbClient.builder().endpointOverride(other.endpoint())
            .region(Region.AP_SOUTHEAST_2).credentialsProvider(credentials())
            .httpClientBuilder(Apache5HttpClient.builder()).build()) {
      assertThrows(ResourceNotFoundException.class, () -> client.describeTable(b -> b.tableName(name)));
      client.createTable(b -> b.tableName(name).keySchema(key("pk", KeyType.HASH))
          .attributeDefinitions(attribute("pk", ScalarAttributeType.S)).billingMode(BillingMode.PAY_PER_REQUEST));
      assertEquals("arn:aws:dynamodb:eu-west-1:123456789012:table/" + name,
          client.describeTable(b -> b.tableName(name)).table().tableArn());
    }
  }

  @Test
  void unknownTarget_answersUnknownOperationException() throws Exception {
    RawReply reply = post("DynamoDB_20120810.ExecuteStatement", "{}");
    assertEquals(400, reply.status());
    assertTrue(reply.body().contains("UnknownOperationException"), reply.body());
    assertTrue(reply.body().contains("ExecuteStatement"), reply.body());
  }

  @Test
  void unparsableJson_answersSerializationException_andServerKeepsServing() throws Exception {
    RawReply reply = post("DynamoDB_20120810.ListTables", "{\"Limit\": ");
    assertEquals(400, reply.status());
    assertTrue(reply.body().contains("SerializationException"), reply.body());
    RawReply wrongType = post("DynamoDB_20120810.ListTables", "{\"Limit\": \"ten\"}");
    assertTrue(wrongType.body().contains("SerializationException") && wrongType.body().contains("ten"),
        wrongType.body());
    RawReply notObject = post("DynamoDB_20120810.ListTables", "[1]");
    assertTrue(notObject.body().contains("SerializationException"), notObject.body());
    assertNotNull(dynamo.listTables().tableNames());
  }

  @Test
  void pathologicalRequests_areAnsweredWithErrors_andServerKeepsServing() throws Exception {
    String table = hashTable("pathological");
    String deep = "(".repeat(1500) + "pk = :v" + ")".repeat(1500);
    RawReply nested = post("DynamoDB_20120810.PutItem", "{\"TableName\":\"" + table + "\",\"Item\":{\"pk\":{\"S\":"
        + "\"a\"}},\"ConditionExpression\":\"" + deep + "\",\"ExpressionAttributeValues\":{\":v\":{\"S\":\"b\"}}}");
    assertEquals(400, nested.status(), nested.body());
    RawReply badBinary = post("DynamoDB_20120810.PutItem", "{\"TableName\":\"" + table + "\",\"Item\":{\"pk\":"
        + "{\"S\":\"a\"},\"b\":{\"B\":\"not base64!\"}}}");
    assertTrue(badBinary.body().contains("SerializationException") && badBinary.body().contains("not base64!"),
        badBinary.body());
    RawReply twoTypes = post("DynamoDB_20120810.PutItem", "{\"TableName\":\"" + table + "\",\"Item\":{\"pk\":"
        + "{\"S\":\"a\",\"N\":\"1\"}}}");
    assertTrue(twoTypes.body().contains("more than one datatypes"), twoTypes.body());
    RawReply noTable = post("DynamoDB_20120810.GetItem", "{\"Key\":{\"pk\":{\"S\":\"a\"}}}");
    assertTrue(noTable.body().contains("Value null at 'tableName' failed to satisfy constraint"), noTable.body());
    assertEquals(0, dynamo.scan(b -> b.tableName(table)).count());
  }

  @Test
  void everyReply_carriesCrc32OfBodyAndRequestId() throws Exception {
    RawReply reply = post("DynamoDB_20120810.ListTables", "{}");
    assertEquals(200, reply.status());
    assertEquals("application/x-amz-json-1.0", reply.header("Content-Type"));
    CRC32 crc = new CRC32();
    crc.update(reply.body().getBytes(StandardCharsets.UTF_8));
    assertEquals(Long.toString(crc.getValue()), reply.header("x-amz-crc32"));
    assertNotNull(reply.header("x-amzn-RequestId"));
  }

  @Test
  void get_answersHealthCheck() throws Exception {
    RawReply reply = send("GET", null, null);
    assertEquals(200, reply.status());
    assertTrue(reply.body().startsWith("healthy: dynamodb.us-east-1.amazonaws.com"), reply.body());
  }

  @Test
  void stats_countRequestsErrorsAndTables() {
    DynamoDbStats before = server.stats();
    hashTable("counted");
    assertThrows(ResourceNotFoundException.class, () -> dynamo.describeTable(b -> b.tableName("missing-table")));
    DynamoDbStats after = server.stats();
    assertEquals(before.requests() + 2, after.requests());
    assertEquals(before.errors() + 1, after.errors());
    assertEquals(before.tables() + 1, after.tables());
  }
}
