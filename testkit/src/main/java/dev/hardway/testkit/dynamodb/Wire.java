package dev.hardway.testkit.dynamodb;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** DynamoDB's JSON: attribute values to and from the wire, and typed access to request members. */
final class Wire {

  static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  static final ObjectMapper MAPPER = JsonMapper.builder()
      .nodeFactory(NODES)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN)
      .build();

  /** DynamoDB's documented limit on nesting of maps and lists. */
  static final int MAX_DEPTH = 32;

  private Wire() {}

  static ObjectNode parseRequest(byte[] body) {
    if (body.length == 0) {
      throw ServiceError.serialization("The request body is empty; expected a JSON object");
    }
    JsonNode node;
    try {
      node = MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw ServiceError.serialization("The request body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw ServiceError.serialization("The request body cannot be read: " + e.getMessage());
    }
    if (!(node instanceof ObjectNode object)) {
      throw ServiceError.serialization(
          "The request body must be a JSON object, got " + node.getNodeType().name().toLowerCase(Locale.ROOT));
    }
    return object;
  }

  static byte[] write(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a JSON tree", e);
    }
  }

  static ObjectNode object() {
    return NODES.objectNode();
  }

  static ArrayNode array() {
    return NODES.arrayNode();
  }

  // ---------------------------------------------------------------- attribute values from the wire

  static Map<String, Value> item(JsonNode node, String member) {
    if (!(node instanceof ObjectNode object)) {
      throw ServiceError.serialization("Expected a map of attribute values for " + member + ", got " + render(node));
    }
    Map<String, Value> item = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : object.properties()) {
      if (e.getKey().isEmpty()) {
        throw ServiceError.invalidParameter("An attribute name in " + member + " is empty; names need 1 to 65535 bytes");
      }
      item.put(e.getKey(), value(e.getValue(), e.getKey(), 1));
    }
    return item;
  }

  static Value value(JsonNode node, String where) {
    return value(node, where, 1);
  }

  private static Value value(JsonNode node, String where, int depth) {
    if (depth > MAX_DEPTH) {
      throw ServiceError.validation("Nesting Levels have exceeded supported limits: attribute " + where
          + " is nested deeper than " + MAX_DEPTH + " levels");
    }
    if (!(node instanceof ObjectNode object)) {
      throw ServiceError.serialization("Expected an attribute value object for " + where + ", got " + render(node));
    }
    if (object.isEmpty()) {
      throw ServiceError.validation("Supplied AttributeValue is empty, must contain exactly one of the supported "
          + "datatypes; attribute: " + where);
    }
    if (object.size() > 1) {
      List<String> names = new ArrayList<>();
      object.fieldNames().forEachRemaining(names::add);
      throw ServiceError.validation("Supplied AttributeValue has more than one datatypes set, must contain exactly "
          + "one of the supported datatypes; attribute: " + where + ", datatypes: " + names);
    }
    Map.Entry<String, JsonNode> only = object.properties().iterator().next();
    String type = only.getKey();
    JsonNode v = only.getValue();
    switch (type) {
      case "S":
        return new Value.S(text(v, where, type));
      case "N":
        return new Value.N(Numbers.parse(text(v, where, type)));
      case "B":
        return new Value.B(binary(text(v, where, type), where));
      case "BOOL":
        if (!v.isBoolean()) {
          throw ServiceError.serialization("BOOL of " + where + " must be a JSON boolean, got " + render(v));
        }
        return new Value.Bool(v.booleanValue());
      case "NULL":
        if (!v.isBoolean()) {
          throw ServiceError.serialization("NULL of " + where + " must be a JSON boolean, got " + render(v));
        }
        if (!v.booleanValue()) {
          throw ServiceError.validation(
              "One or more parameter values were invalid: Null attribute value types must have the value of true; "
                  + "attribute: " + where);
        }
        return new Value.Null();
      case "SS": {
        LinkedHashSet<String> set = new LinkedHashSet<>();
        List<String> received = new ArrayList<>();
        for (JsonNode e : members(v, where, type)) {
          String s = text(e, where, type);
          received.add(s);
          set.add(s);
        }
        checkSet(set.size(), received, where, "string");
        return new Value.SS(set);
      }
      case "NS": {
        LinkedHashSet<BigDecimal> set = new LinkedHashSet<>();
        List<String> received = new ArrayList<>();
        for (JsonNode e : members(v, where, type)) {
          String s = text(e, where, type);
          received.add(s);
          set.add(Numbers.parse(s));
        }
        checkSet(set.size(), received, where, "number");
        return new Value.NS(set);
      }
      case "BS": {
        LinkedHashSet<Bytes> set = new LinkedHashSet<>();
        List<String> received = new ArrayList<>();
        for (JsonNode e : members(v, where, type)) {
          String s = text(e, where, type);
          received.add(s);
          set.add(binary(s, where));
        }
        checkSet(set.size(), received, where, "binary");
        return new Value.BS(set);
      }
      case "M": {
        if (!(v instanceof ObjectNode map)) {
          throw ServiceError.serialization("M of " + where + " must be a JSON object, got " + render(v));
        }
        Map<String, Value> values = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
          values.put(e.getKey(), value(e.getValue(), where + "." + e.getKey(), depth + 1));
        }
        return new Value.M(values);
      }
      case "L": {
        List<Value> values = new ArrayList<>();
        int index = 0;
        for (JsonNode e : members(v, where, type)) {
          values.add(value(e, where + "[" + index++ + "]", depth + 1));
        }
        return new Value.L(values);
      }
      default:
        throw ServiceError.serialization("Unknown attribute value type " + type + " for " + where
            + "; expected one of S, N, B, SS, NS, BS, M, L, BOOL, NULL");
    }
  }

  private static void checkSet(int distinct, List<String> received, String where, String kind) {
    if (received.isEmpty()) {
      throw ServiceError.invalidParameter("An " + kind + " set  may not be empty; attribute: " + where);
    }
    if (distinct != received.size()) {
      throw ServiceError.invalidParameter("Input collection " + received + " contains duplicates; attribute: " + where);
    }
  }

  private static Iterable<JsonNode> members(JsonNode v, String where, String type) {
    if (!(v instanceof ArrayNode array)) {
      throw ServiceError.serialization(type + " of " + where + " must be a JSON array, got " + render(v));
    }
    return array;
  }

  private static String text(JsonNode v, String where, String type) {
    if (!v.isTextual()) {
      throw ServiceError.serialization(type + " of " + where + " must be a JSON string, got " + render(v));
    }
    return v.textValue();
  }

  private static Bytes binary(String base64, String where) {
    try {
      return Bytes.wrap(Base64.getDecoder().decode(base64));
    } catch (IllegalArgumentException e) {
      throw ServiceError.serialization("Base64 encoded binary data of " + where + " is invalid: " + shorten(base64));
    }
  }

  // ---------------------------------------------------------------- attribute values to the wire

  static ObjectNode json(Value value) {
    ObjectNode node = NODES.objectNode();
    switch (value) {
      case Value.S(String s) -> node.put("S", s);
      case Value.N n -> node.put("N", n.text());
      case Value.B(Bytes b) -> node.put("B", b.base64());
      case Value.Bool(boolean b) -> node.put("BOOL", b);
      case Value.Null ignored -> node.put("NULL", true);
      case Value.SS(Set<String> set) -> {
        ArrayNode array = node.putArray("SS");
        set.forEach(array::add);
      }
      case Value.NS(Set<BigDecimal> set) -> {
        ArrayNode array = node.putArray("NS");
        set.forEach(n -> array.add(n.toPlainString()));
      }
      case Value.BS(Set<Bytes> set) -> {
        ArrayNode array = node.putArray("BS");
        set.forEach(b -> array.add(b.base64()));
      }
      case Value.M(Map<String, Value> map) -> node.set("M", itemJson(map));
      case Value.L(List<Value> list) -> {
        ArrayNode array = node.putArray("L");
        list.forEach(v -> array.add(json(v)));
      }
    }
    return node;
  }

  static ObjectNode itemJson(Map<String, Value> item) {
    ObjectNode node = NODES.objectNode();
    for (Map.Entry<String, Value> e : item.entrySet()) {
      node.set(e.getKey(), json(e.getValue()));
    }
    return node;
  }

  // ---------------------------------------------------------------- request members

  /** Typed, checked access to the members of one request object. */
  static final class Members {
    private final ObjectNode node;
    private final String prefix;

    Members(ObjectNode node, String prefix) {
      this.node = node;
      this.prefix = prefix;
    }

    static Members of(ObjectNode node) {
      return new Members(node, "");
    }

    ObjectNode node() {
      return node;
    }

    boolean has(String name) {
      JsonNode v = node.get(name);
      return v != null && !v.isNull();
    }

    String member(String name) {
      String camel = Character.toLowerCase(name.charAt(0)) + name.substring(1);
      return prefix.isEmpty() ? camel : prefix + "." + camel;
    }

    @Nullable String string(String name) {
      JsonNode v = node.get(name);
      if (v == null || v.isNull()) {
        return null;
      }
      if (!v.isTextual()) {
        throw ServiceError.serialization(name + " must be a JSON string, got " + render(v));
      }
      return v.textValue();
    }

    String requireString(String name) {
      String v = string(name);
      if (v == null) {
        throw ServiceError.constraint(null, member(name), "must not be null");
      }
      return v;
    }

    @Nullable String expression(String name) {
      String v = string(name);
      if (v != null && v.isBlank()) {
        throw ServiceError.validation("Invalid " + name + ": The expression can not be empty;");
      }
      return v;
    }

    String tableName(String name) {
      String table = requireString(name);
      checkTableName(table, member(name));
      return table;
    }

    @Nullable Boolean bool(String name) {
      JsonNode v = node.get(name);
      if (v == null || v.isNull()) {
        return null;
      }
      if (!v.isBoolean()) {
        throw ServiceError.serialization(name + " must be a JSON boolean, got " + render(v));
      }
      return v.booleanValue();
    }

    @Nullable Long integer(String name) {
      JsonNode v = node.get(name);
      if (v == null || v.isNull()) {
        return null;
      }
      if (!v.isIntegralNumber() || !v.canConvertToLong()) {
        throw ServiceError.serialization(name + " must be a JSON integer, got " + render(v));
      }
      return v.longValue();
    }

    @Nullable Integer intInRange(String name, int min, int max) {
      Long v = integer(name);
      if (v == null) {
        return null;
      }
      if (v < min) {
        throw ServiceError.constraint(v, member(name), "must have value greater than or equal to " + min);
      }
      if (v > max) {
        throw ServiceError.constraint(v, member(name), "must have value less than or equal to " + max);
      }
      return v.intValue();
    }

    @Nullable ObjectNode object(String name) {
      JsonNode v = node.get(name);
      if (v == null || v.isNull()) {
        return null;
      }
      if (!(v instanceof ObjectNode o)) {
        throw ServiceError.serialization(name + " must be a JSON object, got " + render(v));
      }
      return o;
    }

    ObjectNode requireObject(String name) {
      ObjectNode v = object(name);
      if (v == null) {
        throw ServiceError.constraint(null, member(name), "must not be null");
      }
      return v;
    }

    @Nullable ArrayNode array(String name) {
      JsonNode v = node.get(name);
      if (v == null || v.isNull()) {
        return null;
      }
      if (!(v instanceof ArrayNode a)) {
        throw ServiceError.serialization(name + " must be a JSON array, got " + render(v));
      }
      return a;
    }

    ArrayNode requireArray(String name) {
      ArrayNode v = array(name);
      if (v == null) {
        throw ServiceError.constraint(null, member(name), "must not be null");
      }
      return v;
    }

    Members nested(String name) {
      return new Members(requireObject(name), member(name));
    }

    @Nullable Members optionalNested(String name) {
      ObjectNode v = object(name);
      return v == null ? null : new Members(v, member(name));
    }

    /** An enum-valued member, checked against the allowed values. */
    @Nullable String choice(String name, String... allowed) {
      String v = string(name);
      if (v == null) {
        return null;
      }
      for (String a : allowed) {
        if (a.equals(v)) {
          return v;
        }
      }
      throw ServiceError.constraint(v, member(name), "must satisfy enum value set: " + String.join(", ", allowed));
    }

    /** DynamoDB's legacy (pre-expression) parameters; the test kit answers them as not supported. */
    void refuseLegacy(String... names) {
      for (String name : names) {
        if (node.has(name)) {
          throw ServiceError.validation("The legacy parameter " + name + " is not supported by the Hardway test "
              + "kit; use the expression parameters instead (received " + name + ": " + shorten(render(node.get(name)))
              + ")");
        }
      }
    }
  }

  static void checkTableName(String table, String member) {
    if (table.length() < 3) {
      throw ServiceError.constraint(table, member, "must have length greater than or equal to 3");
    }
    if (table.length() > 255) {
      throw ServiceError.constraint(table, member, "must have length less than or equal to 255");
    }
    for (int i = 0; i < table.length(); i++) {
      char c = table.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
          || c == '.')) {
        throw ServiceError.constraint(table, member, "must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
      }
    }
  }

  static String render(@Nullable JsonNode node) {
    if (node == null) {
      return "nothing";
    }
    return shorten(node.toString());
  }

  static String shorten(String text) {
    return text.length() > 200 ? text.substring(0, 200) + "..." : text;
  }
}
