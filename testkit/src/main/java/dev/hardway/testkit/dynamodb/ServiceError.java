package dev.hardway.testkit.dynamodb;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An error answered to the client as DynamoDB answers it: an HTTP status and a JSON body whose {@code __type} the SDK
 * maps to its typed exception (it reads the part after {@code #}).
 */
final class ServiceError extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private static final String DYNAMODB = "com.amazonaws.dynamodb.v20120810#";
  private static final String CORAL_SERVICE = "com.amazon.coral.service#";
  private static final String CORAL_VALIDATE = "com.amazon.coral.validate#";

  private final String type;
  private final int status;
  private final transient @Nullable ObjectNode extra;

  private ServiceError(String type, int status, String message, @Nullable ObjectNode extra) {
    super(message, null, false, false);
    this.type = type;
    this.status = status;
    this.extra = extra;
  }

  static ServiceError validation(String message) {
    return new ServiceError(CORAL_VALIDATE + "ValidationException", 400, message, null);
  }

  /** A parameter check in the form the service's request validator words it. */
  static ServiceError constraint(@Nullable Object value, String member, String constraint) {
    String shown = value == null ? "null" : "'" + value + "'";
    return validation("1 validation error detected: Value " + shown + " at '" + member
        + "' failed to satisfy constraint: Member " + constraint);
  }

  static ServiceError invalidParameter(String message) {
    return validation("One or more parameter values were invalid: " + message);
  }

  static ServiceError serialization(String message) {
    return new ServiceError(CORAL_SERVICE + "SerializationException", 400, message, null);
  }

  static ServiceError unknownOperation(String message) {
    return new ServiceError(CORAL_SERVICE + "UnknownOperationException", 400, message, null);
  }

  static ServiceError notFound(String message) {
    return new ServiceError(DYNAMODB + "ResourceNotFoundException", 400, message, null);
  }

  static ServiceError tableNotFound(String table) {
    return notFound("Requested resource not found: Table: " + table + " not found");
  }

  static ServiceError inUse(String message) {
    return new ServiceError(DYNAMODB + "ResourceInUseException", 400, message, null);
  }

  static ServiceError conditionalCheckFailed(@Nullable ObjectNode item) {
    ObjectNode extra = null;
    if (item != null) {
      extra = JsonNodeFactory.instance.objectNode();
      extra.set("Item", item);
    }
    return new ServiceError(DYNAMODB + "ConditionalCheckFailedException", 400, "The conditional request failed", extra);
  }

  static ServiceError transactionCanceled(String message, ObjectNode extra) {
    return new ServiceError(DYNAMODB + "TransactionCanceledException", 400, message, extra);
  }

  static ServiceError idempotentParameterMismatch(String message) {
    return new ServiceError(DYNAMODB + "IdempotentParameterMismatchException", 400, message, null);
  }

  static ServiceError expiredIterator(String message) {
    return new ServiceError(DYNAMODB + "ExpiredIteratorException", 400, message, null);
  }

  static ServiceError trimmedDataAccess(String message) {
    return new ServiceError(DYNAMODB + "TrimmedDataAccessException", 400, message, null);
  }

  static ServiceError internal(String message) {
    return new ServiceError(DYNAMODB + "InternalServerError", 500, message, null);
  }

  /** The short name, e.g. {@code ValidationException}, as the SDK reports it in {@code errorCode()}. */
  String code() {
    return type.substring(type.indexOf('#') + 1);
  }

  int status() {
    return status;
  }

  ObjectNode toJson() {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.put("__type", type);
    body.put("message", getMessage());
    if (extra != null) {
      for (Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> field : extra.properties()) {
        body.set(field.getKey(), field.getValue());
      }
    }
    return body;
  }
}
