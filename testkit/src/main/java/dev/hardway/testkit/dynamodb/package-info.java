/**
 * A local DynamoDB server with DynamoDB Streams, speaking the real JSON wire protocol:
 * {@link dev.hardway.testkit.dynamodb.DynamoDbServer}.
 */
@NullMarked
package dev.hardway.testkit.dynamodb;

import org.jspecify.annotations.NullMarked;
