package dev.hardway.testkit.dynamodb;

import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One change to one item, as its stream holds it. Images are kept only when the stream's view type includes them,
 * and they share structure with the table's immutable items, so a record costs little beyond its own fields.
 */
record StreamRecord(
    long sequence,
    String eventName,
    Instant created,
    Map<String, Value> keys,
    @Nullable Map<String, Value> newImage,
    @Nullable Map<String, Value> oldImage,
    long sizeBytes,
    boolean byTimeToLive) {}
