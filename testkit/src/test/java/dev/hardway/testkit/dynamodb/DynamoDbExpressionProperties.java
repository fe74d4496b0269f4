package dev.hardway.testkit.dynamodb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hardway.testkit.dynamodb.Expr.And;
import dev.hardway.testkit.dynamodb.Expr.Attr;
import dev.hardway.testkit.dynamodb.Expr.BeginsWith;
import dev.hardway.testkit.dynamodb.Expr.Between;
import dev.hardway.testkit.dynamodb.Expr.Compare;
import dev.hardway.testkit.dynamodb.Expr.Comparator;
import dev.hardway.testkit.dynamodb.Expr.Condition;
import dev.hardway.testkit.dynamodb.Expr.Contains;
import dev.hardway.testkit.dynamodb.Expr.Exists;
import dev.hardway.testkit.dynamodb.Expr.In;
import dev.hardway.testkit.dynamodb.Expr.Index;
import dev.hardway.testkit.dynamodb.Expr.Not;
import dev.hardway.testkit.dynamodb.Expr.Operand;
import dev.hardway.testkit.dynamodb.Expr.Or;
import dev.hardway.testkit.dynamodb.Expr.Path;
import dev.hardway.testkit.dynamodb.Expr.PathOperand;
import dev.hardway.testkit.dynamodb.Expr.Size;
import dev.hardway.testkit.dynamodb.Expr.Step;
import dev.hardway.testkit.dynamodb.Expr.TypeIs;
import dev.hardway.testkit.dynamodb.Expr.ValueOperand;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.GetRecordsResponse;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ProjectionType;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.Shard;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;

/** Invariants of expressions, numbers, ordering, paging and streams, over random inputs. */
class DynamoDbExpressionProperties {

  private static DynamoDbServer server;
  private static DynamoDbClient dynamo;
  private static DynamoDbStreamsClient streams;
  private static int tables;

  @BeforeContainer
  static void start() {
    server = DynamoDbServer.builder().start();
    dynamo = DynamoDbTestSupport.clientOf(server);
    streams = DynamoDbTestSupport.streamsClientOf(server);
  }

  @AfterContainer
  static void stop() {
    streams.close();
    dynamo.close();
    server.close();
  }

  private static synchronized String newTable(boolean withRange, StreamViewType view) {
    String name = "prop-" + ++tables;
    dynamo.createTable(b -> {
      b.tableName(name).billingMode(BillingMode.PAY_PER_REQUEST);
      if (withRange) {
        b.keySchema(DynamoDbTestSupport.key("pk", KeyType.HASH), DynamoDbTestSupport.key("sk", KeyType.RANGE))
            .attributeDefinitions(DynamoDbTestSupport.attribute("pk", ScalarAttributeType.S),
                DynamoDbTestSupport.attribute("sk", ScalarAttributeType.N));
      } else {
        b.keySchema(DynamoDbTestSupport.key("pk", KeyType.HASH))
            .attributeDefinitions(DynamoDbTestSupport.attribute("pk", ScalarAttributeType.S));
      }
      if (view != null) {
        b.streamSpecification(s -> s.streamEnabled(true).streamViewType(view));
      }
    });
    return name;
  }

  // ---------------------------------------------------------------- streams replay to the table's state

  sealed interface Op permits PutOp, UpdateOp, DeleteOp, RotateOp {}

  record PutOp(int key, int value, boolean tagged) implements Op {}

  record UpdateOp(int key, int delta, boolean untag) implements Op {}

  record DeleteOp(int key) implements Op {}

  record RotateOp() implements Op {}

  @Provide
  Arbitrary<List<Op>> operations() {
    Arbitrary<Integer> key = Arbitraries.integers().between(0, 4);
    Arbitrary<Op> put = Combinators.combine(key, Arbitraries.integers().between(0, 2), Arbitraries.of(true, false))
        .as(PutOp::new);
    Arbitrary<Op> update = Combinators.combine(key, Arbitraries.integers().between(0, 2),
        Arbitraries.of(true, false)).as(UpdateOp::new);
    Arbitrary<Op> delete = key.map(DeleteOp::new);
    Arbitrary<Op> rotate = Arbitraries.just(new RotateOp());
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, put), net.jqwik.api.Tuple.of(4, update), net.jqwik.api.Tuple.of(2, delete),
        net.jqwik.api.Tuple.of(1, rotate)).list().ofMaxSize(30);
  }

  @Property(tries = 40)
  void streamReplayedFromTrimHorizon_reproducesTheTable_andTheIndexMatchesIt(
      @ForAll("operations") List<Op> operations) {
    String table = indexedTable();
    for (Op op : operations) {
      switch (op) {
        case PutOp(int key, int value, boolean tagged) -> dynamo.putItem(b -> b.tableName(table).item(tagged
            ? DynamoDbTestSupport.item("pk", s("k" + key), "v", n(value), "tag", s("t"))
            : DynamoDbTestSupport.item("pk", s("k" + key), "v", n(value))));
        case UpdateOp(int key, int delta, boolean untag) -> dynamo.updateItem(b -> b.tableName(table)
            .key(DynamoDbTestSupport.item("pk", s("k" + key)))
            .updateExpression(untag ? "ADD v :d REMOVE tag" : "ADD v :d SET tag = :t")
            .expressionAttributeValues(untag ? DynamoDbTestSupport.item(":d", n(delta))
                : DynamoDbTestSupport.item(":d", n(delta), ":t", s("t"))));
        case DeleteOp(int key) -> dynamo.deleteItem(b -> b.tableName(table)
            .key(DynamoDbTestSupport.item("pk", s("k" + key))));
        case RotateOp() -> server.rotateStreamShard(table);
      }
    }
    Map<String, Map<String, AttributeValue>> replayed = new TreeMap<>();
    for (Record r : records(table)) {
      String pk = r.dynamodb().keys().get("pk").s();
      switch (r.eventName()) {
        case INSERT -> assertNull(replayed.put(pk, r.dynamodb().newImage()), "INSERT of an existing item " + pk);
        case MODIFY -> {
          assertEquals(replayed.get(pk), r.dynamodb().oldImage(), "OldImage of " + pk);
          assertFalse(r.dynamodb().oldImage().equals(r.dynamodb().newImage()), "a MODIFY that changed nothing");
          replayed.put(pk, r.dynamodb().newImage());
        }
        case REMOVE -> assertEquals(r.dynamodb().oldImage(), replayed.remove(pk), "OldImage of removed " + pk);
        default -> throw new AssertionError("unexpected event " + r.eventName());
      }
    }
    Map<String, Map<String, AttributeValue>> actual = new TreeMap<>();
    dynamo.scanPaginator(b -> b.tableName(table)).items().forEach(i -> actual.put(i.get("pk").s(), i));
    assertEquals(actual, replayed);
    // The sparse index holds exactly the items with a tag, ordered by v and then by key.
    List<String> expectedIndex = actual.values().stream().filter(i -> i.containsKey("tag"))
        .sorted(java.util.Comparator.comparing((Map<String, AttributeValue> i) -> new BigDecimal(i.get("v").n()))
            .thenComparing(i -> i.get("pk").s()))
        .map(i -> i.get("pk").s()).toList();
    List<String> index = dynamo.queryPaginator(b -> b.tableName(table).indexName("by-tag")
        .keyConditionExpression("tag = :t").expressionAttributeValues(DynamoDbTestSupport.item(":t", s("t")))
        .limit(3)).items().stream().map(i -> i.get("pk").s()).toList();
    assertEquals(expectedIndex, index);
  }

  private static synchronized String indexedTable() {
    String name = "prop-" + ++tables;
    dynamo.createTable(b -> b.tableName(name).billingMode(BillingMode.PAY_PER_REQUEST)
        .keySchema(DynamoDbTestSupport.key("pk", KeyType.HASH))
        .attributeDefinitions(DynamoDbTestSupport.attribute("pk", ScalarAttributeType.S),
            DynamoDbTestSupport.attribute("tag", ScalarAttributeType.S),
            DynamoDbTestSupport.attribute("v", ScalarAttributeType.N))
        .globalSecondaryIndexes(GlobalSecondaryIndex.builder().indexName("by-tag")
            .keySchema(DynamoDbTestSupport.key("tag", KeyType.HASH), DynamoDbTestSupport.key("v", KeyType.RANGE))
            .projection(p -> p.projectionType(ProjectionType.KEYS_ONLY)).build())
        .streamSpecification(st -> st.streamEnabled(true).streamViewType(StreamViewType.NEW_AND_OLD_IMAGES)));
    return name;
  }

  private static List<Record> records(String table) {
    String arn = dynamo.describeTable(b -> b.tableName(table)).table().latestStreamArn();
    List<Record> out = new ArrayList<>();
    for (Shard shard : streams.describeStream(b -> b.streamArn(arn)).streamDescription().shards()) {
      String iterator = streams.getShardIterator(b -> b.streamArn(arn).shardId(shard.shardId())
          .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
      while (iterator != null) {
        String current = iterator;
        GetRecordsResponse page = streams.getRecords(b -> b.shardIterator(current).limit(7));
        out.addAll(page.records());
        if (page.records().isEmpty() && shard.sequenceNumberRange().endingSequenceNumber() == null) {
          break;
        }
        iterator = page.nextShardIterator();
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- query pages

  @Property(tries = 30)
  void queryPages_concatenateToTheWholePartitionInOrder(
      @ForAll @IntRange(min = 0, max = 40) int items,
      @ForAll @IntRange(min = 1, max = 12) int limit,
      @ForAll boolean forward) {
    String table = newTable(true, null);
    for (int i = 0; i < items; i++) {
      int sk = i * 7 % 41 - 20;
      dynamo.putItem(b -> b.tableName(table).item(DynamoDbTestSupport.item("pk", s("p"), "sk", n(sk))));
    }
    List<Integer> seen = new ArrayList<>();
    Map<String, AttributeValue> start = null;
    do {
      Map<String, AttributeValue> from = start;
      QueryResponse page = dynamo.query(b -> b.tableName(table).keyConditionExpression("pk = :p")
          .expressionAttributeValues(DynamoDbTestSupport.item(":p", s("p"))).limit(limit).scanIndexForward(forward)
          .exclusiveStartKey(from));
      assertTrue(page.count() <= limit);
      page.items().forEach(i -> seen.add(Integer.valueOf(i.get("sk").n())));
      start = page.lastEvaluatedKey().isEmpty() ? null : page.lastEvaluatedKey();
    } while (start != null);
    List<Integer> expected = IntStream.range(0, items).map(i -> i * 7 % 41 - 20).sorted().boxed()
        .collect(Collectors.toList());
    if (!forward) {
      expected = expected.reversed();
    }
    assertEquals(expected, seen);
  }

  // ---------------------------------------------------------------- numbers

  @Provide
  Arbitrary<BigDecimal> numbers() {
    Arbitrary<BigDecimal> nonZero = Arbitraries.integers().between(1, 38).flatMap(digits -> {
      Arbitrary<BigInteger> unscaled = Arbitraries.bigIntegers()
          .between(BigInteger.TEN.pow(digits - 1), BigInteger.TEN.pow(digits).subtract(BigInteger.ONE));
      // Magnitude from 1E-130 to below 1E+126: digits - scale must lie in -129..126.
      Arbitrary<Integer> scale = Arbitraries.integers().between(digits - 126, digits + 129);
      return Combinators.combine(unscaled, scale, Arbitraries.of(1, -1))
          .as((u, sc, sign) -> new BigDecimal(u.multiply(BigInteger.valueOf(sign)), sc));
    });
    return Arbitraries.oneOf(nonZero, Arbitraries.just(BigDecimal.ZERO));
  }

  @Property(tries = 500)
  void numberParsing_normalizesWithoutChangingTheValue(
      @ForAll("numbers") BigDecimal number, @ForAll @IntRange(min = 0, max = 3) int extraZeros) {
    for (String text : List.of(number.toString(), number.toPlainString(), number.toEngineeringString(),
        number.setScale(Math.max(number.scale(), 0) + extraZeros).toPlainString())) {
      BigDecimal parsed = Numbers.parse(text);
      assertEquals(0, parsed.compareTo(number), text);
      String canonical = new Value.N(parsed).text();
      assertFalse(canonical.contains("E") || canonical.contains("e"), canonical);
      assertFalse(canonical.contains(".") && canonical.endsWith("0"), canonical);
      assertFalse(canonical.equals("-0"), canonical);
      assertEquals(parsed, Numbers.parse(canonical), "the canonical form parses to itself");
    }
  }

  @Property(tries = 40)
  void numbers_roundTripOverTheWire(@ForAll("numbers") BigDecimal number) {
    String table = numbersTable();
    dynamo.putItem(b -> b.tableName(table).item(DynamoDbTestSupport.item("pk", s("n"), "v", n(number.toString()))));
    String stored = dynamo.getItem(b -> b.tableName(table).key(DynamoDbTestSupport.item("pk", s("n")))).item()
        .get("v").n();
    assertEquals(0, new BigDecimal(stored).compareTo(number));
    assertEquals(Numbers.normalize(number).toPlainString(), stored);
  }

  private static String numbersTable;

  private static synchronized String numbersTable() {
    if (numbersTable == null) {
      numbersTable = newTable(false, null);
    }
    return numbersTable;
  }

  // ---------------------------------------------------------------- ordering

  @Property(tries = 500)
  void stringOrdering_isUtf8ByteOrder(@ForAll String a, @ForAll String b) {
    // Lone surrogates have no UTF-8 form; DynamoDB would refuse them on the wire.
    String x = a.codePoints().filter(c -> !Character.isSurrogate((char) c) || c > 0xFFFF)
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    String y = b.codePoints().filter(c -> !Character.isSurrogate((char) c) || c > 0xFFFF)
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    int expected = Integer.signum(Arrays.compareUnsigned(x.getBytes(StandardCharsets.UTF_8),
        y.getBytes(StandardCharsets.UTF_8)));
    assertEquals(expected, Integer.signum(Value.compare(new Value.S(x), new Value.S(y))));
    assertEquals(Value.utf8Length(x), x.getBytes(StandardCharsets.UTF_8).length);
  }

  // ---------------------------------------------------------------- the condition parser

  private static final Map<String, Value> VALUES = new LinkedHashMap<>();
  private static final Map<String, String> NAMES = Map.of("#odd", "odd-name", "#kw", "status");

  static {
    VALUES.put(":n1", new Value.N(BigDecimal.ONE));
    VALUES.put(":n2", new Value.N(new BigDecimal("2.5")));
    VALUES.put(":s1", new Value.S("abc"));
    VALUES.put(":s2", new Value.S("x"));
    VALUES.put(":b1", new Value.B(Bytes.wrap(new byte[] {1, 2})));
    VALUES.put(":set", new Value.SS(Set.of("abc", "q")));
    VALUES.put(":type", new Value.S("N"));
  }

  private static ValueOperand value(String placeholder) {
    return new ValueOperand(placeholder, VALUES.get(placeholder));
  }

  @Provide
  Arbitrary<Condition> conditions() {
    return Arbitraries.recursive(this::leafConditions, inner -> Arbitraries.oneOf(
        Combinators.combine(inner, inner).as(And::new),
        Combinators.combine(inner, inner).as(Or::new),
        inner.map(Not::new)), 0, 4);
  }

  private Arbitrary<Path> paths() {
    Arbitrary<Step> attr = Arbitraries.of("a", "b", "odd-name", "status").map(Attr::new);
    Arbitrary<Step> index = Arbitraries.integers().between(0, 3).map(Index::new);
    return Combinators.combine(attr, Arbitraries.oneOf(attr, index).list().ofMaxSize(3)).as((head, rest) -> {
      List<Step> steps = new ArrayList<>();
      steps.add(head);
      steps.addAll(rest);
      return new Path(steps);
    });
  }

  private Arbitrary<Condition> leafConditions() {
    Arbitrary<Operand> pathOperand = paths().map(PathOperand::new);
    Arbitrary<Operand> ordered = Arbitraries.oneOf(pathOperand, paths().map(Size::new),
        Arbitraries.of(":n1", ":n2", ":s1", ":s2", ":b1").map(DynamoDbExpressionProperties::value));
    Arbitrary<Operand> any = Arbitraries.oneOf(ordered, Arbitraries.just(value(":set")));
    return Arbitraries.oneOf(
        Combinators.combine(ordered, Arbitraries.of(Comparator.values()), ordered).as(Compare::new),
        Combinators.combine(any, Arbitraries.of(Comparator.EQ, Comparator.NE), any).as(Compare::new),
        Combinators.combine(ordered, Arbitraries.just(value(":n1")), Arbitraries.just(value(":n2")))
            .as(Between::new),
        Combinators.combine(any, any.list().ofMinSize(1).ofMaxSize(3)).as(In::new),
        Combinators.combine(paths(), Arbitraries.of(true, false)).as(Exists::new),
        paths().map(p -> new TypeIs(p, value(":type"))),
        Combinators.combine(pathOperand, Arbitraries.of(":s1", ":b1").map(DynamoDbExpressionProperties::value))
            .as(BeginsWith::new),
        Combinators.combine(pathOperand, any).as(Contains::new));
  }

  @Property(tries = 400)
  void conditionText_parsesBackToTheTreeItWasRenderedFrom(@ForAll("conditions") Condition condition,
      @ForAll boolean minimalParentheses, @ForAll boolean lowerCaseKeywords) {
    String text = render(condition, minimalParentheses, lowerCaseKeywords);
    ObjectNode request = Wire.object();
    ObjectNode names = request.putObject("ExpressionAttributeNames");
    NAMES.forEach(names::put);
    ObjectNode values = request.putObject("ExpressionAttributeValues");
    VALUES.forEach((k, v) -> values.set(k, Wire.json(v)));
    ExpressionInputs inputs = ExpressionInputs.of(Wire.Members.of(request));
    assertEquals(condition, ExpressionParser.condition(text, "ConditionExpression", inputs), text);
  }

  private static int precedence(Condition c) {
    return switch (c) {
      case Or ignored -> 1;
      case And ignored -> 2;
      case Not ignored -> 3;
      default -> 4;
    };
  }

  private static String render(Condition c, boolean minimal, boolean lower) {
    String and = lower ? " and " : " AND ";
    String or = lower ? " or " : " OR ";
    return switch (c) {
      case Or(Condition l, Condition r) -> child(l, 1, minimal, lower) + or + child(r, 2, minimal, lower);
      case And(Condition l, Condition r) -> child(l, 2, minimal, lower) + and + child(r, 3, minimal, lower);
      case Not(Condition inner) -> (lower ? "not " : "NOT ") + child(inner, 3, minimal, lower);
      case Compare(Operand l, Comparator op, Operand r) -> render(l) + " " + op.symbol + " " + render(r);
      case Between(Operand o, Operand lo, Operand hi) -> render(o) + (lower ? " between " : " BETWEEN ")
          + render(lo) + and + render(hi);
      case In(Operand o, List<Operand> options) -> render(o) + (lower ? " in (" : " IN (")
          + options.stream().map(DynamoDbExpressionProperties::render).collect(Collectors.joining(", ")) + ")";
      case Exists(Path p, boolean exists) -> (exists ? "attribute_exists(" : "attribute_not_exists(") + render(p)
          + ")";
      case TypeIs(Path p, Operand t) -> "attribute_type(" + render(p) + ", " + render(t) + ")";
      case BeginsWith(Operand o, Operand p) -> "begins_with(" + render(o) + ", " + render(p) + ")";
      case Contains(Operand o, Operand m) -> "contains(" + render(o) + "," + render(m) + ")";
    };
  }

  private static String child(Condition c, int least, boolean minimal, boolean lower) {
    String inner = render(c, minimal, lower);
    return minimal && precedence(c) >= least ? inner : "(" + inner + ")";
  }

  private static String render(Operand o) {
    return switch (o) {
      case PathOperand(Path p) -> render(p);
      case Size(Path p) -> "size(" + render(p) + ")";
      case ValueOperand v -> v.placeholder();
      default -> throw new IllegalArgumentException("not generated: " + o);
    };
  }

  private static String render(Path path) {
    StringBuilder out = new StringBuilder();
    for (Step step : path.steps()) {
      if (step instanceof Attr(String name)) {
        if (!out.isEmpty()) {
          out.append('.');
        }
        Map<String, String> byName = new HashMap<>();
        NAMES.forEach((k, v) -> byName.put(v, k));
        out.append(byName.getOrDefault(name, name));
      } else {
        out.append(step);
      }
    }
    return out.toString();
  }

  private static AttributeValue s(String value) {
    return AttributeValue.fromS(value);
  }

  private static AttributeValue n(Object value) {
    return AttributeValue.fromN(value.toString());
  }
}
