package dev.hardway.testkit.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * A request's ExpressionAttributeNames and ExpressionAttributeValues, and which of them its expressions used: DynamoDB
 * refuses both undefined and unused placeholders.
 */
final class ExpressionInputs {

  private final Map<String, String> names;
  private final Map<String, Value> values;
  private final Set<String> usedNames = new HashSet<>();
  private final Set<String> usedValues = new HashSet<>();
  private final boolean namesGiven;
  private final boolean valuesGiven;

  private ExpressionInputs(Map<String, String> names, Map<String, Value> values, boolean namesGiven,
      boolean valuesGiven) {
    this.names = names;
    this.values = values;
    this.namesGiven = namesGiven;
    this.valuesGiven = valuesGiven;
  }

  static ExpressionInputs of(Wire.Members request) {
    ObjectNode namesNode = request.object("ExpressionAttributeNames");
    ObjectNode valuesNode = request.object("ExpressionAttributeValues");
    Map<String, String> names = new LinkedHashMap<>();
    Map<String, Value> values = new LinkedHashMap<>();
    if (namesNode != null) {
      if (namesNode.isEmpty()) {
        throw ServiceError.validation("ExpressionAttributeNames must not be empty");
      }
      for (Map.Entry<String, JsonNode> e : namesNode.properties()) {
        if (!e.getKey().startsWith("#") || e.getKey().length() < 2) {
          throw ServiceError.validation(
              "ExpressionAttributeNames contains invalid key: Syntax error; key: \"" + e.getKey() + "\"");
        }
        if (!e.getValue().isTextual()) {
          throw ServiceError.serialization(
              "ExpressionAttributeNames value for " + e.getKey() + " must be a JSON string, got " + e.getValue());
        }
        if (e.getValue().textValue().isEmpty()) {
          throw ServiceError.validation(
              "ExpressionAttributeNames contains invalid value: Empty attribute name; for key: \"" + e.getKey()
                  + "\"");
        }
        names.put(e.getKey(), e.getValue().textValue());
      }
    }
    if (valuesNode != null) {
      if (valuesNode.isEmpty()) {
        throw ServiceError.validation("ExpressionAttributeValues must not be empty");
      }
      for (Map.Entry<String, JsonNode> e : valuesNode.properties()) {
        if (!e.getKey().startsWith(":") || e.getKey().length() < 2) {
          throw ServiceError.validation(
              "ExpressionAttributeValues contains invalid key: Syntax error; key: \"" + e.getKey() + "\"");
        }
        values.put(e.getKey(), Wire.value(e.getValue(), e.getKey()));
      }
    }
    return new ExpressionInputs(names, values, namesNode != null, valuesNode != null);
  }

  /** Resolves {@code #name}; records it as used. */
  @Nullable String name(String placeholder) {
    String name = names.get(placeholder);
    if (name != null) {
      usedNames.add(placeholder);
    }
    return name;
  }

  /** Resolves {@code :value}; records it as used. */
  @Nullable Value value(String placeholder) {
    Value value = values.get(placeholder);
    if (value != null) {
      usedValues.add(placeholder);
    }
    return value;
  }

  /**
   * Refuses placeholders no expression used, after every expression of the request has been parsed.
   *
   * @param anyExpression whether the request had any expression at all
   */
  void checkAllUsed(boolean anyExpression) {
    if (!anyExpression) {
      if (namesGiven) {
        throw ServiceError.validation("ExpressionAttributeNames can only be specified when using expressions; "
            + "received names: " + names.keySet());
      }
      if (valuesGiven) {
        throw ServiceError.validation("ExpressionAttributeValues can only be specified when using expressions; "
            + "received values: " + values.keySet());
      }
      return;
    }
    Set<String> unusedNames = new TreeSet<>(names.keySet());
    unusedNames.removeAll(usedNames);
    if (!unusedNames.isEmpty()) {
      throw ServiceError.validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {"
          + String.join(", ", unusedNames) + "}");
    }
    Set<String> unusedValues = new TreeSet<>(values.keySet());
    unusedValues.removeAll(usedValues);
    if (!unusedValues.isEmpty()) {
      throw ServiceError.validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {"
          + String.join(", ", unusedValues) + "}");
    }
  }
}
