package dev.hardway.testkit.dynamodb;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hardway.testkit.internal.LoopbackHttpServer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Routes {@code X-Amz-Target} to an operation and turns its result or error into DynamoDB's reply. */
final class Dispatcher implements LoopbackHttpServer.Handler {

  private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
  private static final String JSON = "application/x-amz-json-1.0";
  private static final String DYNAMODB = "DynamoDB_20120810";
  private static final String STREAMS = "DynamoDBStreams_20120810";

  private final Database db;
  private final Map<String, Function<Wire.Members, ObjectNode>> operations = new HashMap<>();
  private final AtomicLong requestIds = new AtomicLong();

  Dispatcher(Database db, TableOperations tables, ItemOperations items, StreamOperations streams) {
    this.db = db;
    dynamodb("CreateTable", tables::createTable);
    dynamodb("DescribeTable", tables::describeTable);
    dynamodb("ListTables", tables::listTables);
    dynamodb("DeleteTable", tables::deleteTable);
    dynamodb("UpdateTable", tables::updateTable);
    dynamodb("UpdateTimeToLive", tables::updateTimeToLive);
    dynamodb("DescribeTimeToLive", tables::describeTimeToLive);
    dynamodb("TagResource", tables::tagResource);
    dynamodb("UntagResource", tables::untagResource);
    dynamodb("ListTagsOfResource", tables::listTagsOfResource);
    dynamodb("DescribeLimits", r -> tables.describeLimits());
    dynamodb("PutItem", items::putItem);
    dynamodb("GetItem", items::getItem);
    dynamodb("UpdateItem", items::updateItem);
    dynamodb("DeleteItem", items::deleteItem);
    dynamodb("Query", items::query);
    dynamodb("Scan", items::scan);
    dynamodb("BatchGetItem", items::batchGetItem);
    dynamodb("BatchWriteItem", items::batchWriteItem);
    dynamodb("TransactWriteItems", items::transactWriteItems);
    dynamodb("TransactGetItems", items::transactGetItems);
    operations.put(STREAMS + ".ListStreams", streams::listStreams);
    operations.put(STREAMS + ".DescribeStream", streams::describeStream);
    operations.put(STREAMS + ".GetShardIterator", streams::getShardIterator);
    operations.put(STREAMS + ".GetRecords", streams::getRecords);
  }

  private void dynamodb(String name, Function<Wire.Members, ObjectNode> operation) {
    operations.put(DYNAMODB + "." + name, operation);
  }

  @Override
  public LoopbackHttpServer.HttpReply handle(LoopbackHttpServer.HttpCall call) {
    db.requests.increment();
    if (call.method().equals("GET")) {
      // What DynamoDB answers to a health check on its endpoint.
      return LoopbackHttpServer.HttpReply.of(200, "text/plain",
          ("healthy: dynamodb." + db.region + ".amazonaws.com ").getBytes(StandardCharsets.UTF_8));
    }
    ObjectNode reply;
    int status = 200;
    try {
      reply = dispatch(call);
    } catch (ServiceError e) {
      db.errors.increment();
      status = e.status();
      reply = e.toJson();
    } catch (StackOverflowError e) {
      db.errors.increment();
      ServiceError error = ServiceError.validation("The request is nested too deeply to be processed");
      status = error.status();
      reply = error.toJson();
    } catch (RuntimeException e) {
      db.errors.increment();
      LOG.warn("DynamoDB server: {} failed", call.header("x-amz-target"), e);
      ServiceError error = ServiceError.internal("The Hardway test kit's DynamoDB server failed: " + e);
      status = error.status();
      reply = error.toJson();
    }
    byte[] body = Wire.write(reply);
    CRC32 crc = new CRC32();
    crc.update(body);
    return LoopbackHttpServer.HttpReply.of(status, JSON, body)
        .withHeader("x-amzn-RequestId", requestId())
        .withHeader("x-amz-crc32", Long.toString(crc.getValue()));
  }

  private ObjectNode dispatch(LoopbackHttpServer.HttpCall call) {
    if (!call.method().equals("POST")) {
      throw ServiceError.unknownOperation("DynamoDB takes POST requests; received " + call.method() + " "
          + call.rawPath());
    }
    String target = call.header("x-amz-target");
    if (target == null) {
      throw ServiceError.unknownOperation("The request has no X-Amz-Target header naming the operation, e.g. "
          + DYNAMODB + ".GetItem");
    }
    Function<Wire.Members, ObjectNode> operation = operations.get(target);
    if (operation == null) {
      throw ServiceError.unknownOperation("Unknown operation: " + Wire.shorten(target)
          + "; the Hardway test kit's DynamoDB server does not implement it");
    }
    return operation.apply(Wire.Members.of(Wire.parseRequest(call.body())));
  }

  private String requestId() {
    long n = requestIds.incrementAndGet();
    return String.format(Locale.ROOT, "%016X%016X", Database.mix(n), Database.mix(~n)).substring(0, 32);
  }
}
