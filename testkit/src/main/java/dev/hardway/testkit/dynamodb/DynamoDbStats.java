package dev.hardway.testkit.dynamodb;

/**
 * A snapshot of a {@link DynamoDbServer}'s counters.
 *
 * @param requests requests answered, errors included
 * @param errors requests answered with an error
 * @param tables tables that exist now
 * @param streamRecordsWritten stream records appended since the server started
 * @param streamRecordsTrimmed stream records dropped, because they were older than 24 hours or beyond the per-stream
 *     record limit
 */
public record DynamoDbStats(
    long requests, long errors, int tables, long streamRecordsWritten, long streamRecordsTrimmed) {}
