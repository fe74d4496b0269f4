package dev.hardway.testkit.dynamodb;

import org.jspecify.annotations.Nullable;

/**
 * An item's key, ordered as DynamoDB orders a partition's items: by partition key, then by sort key.
 *
 * <p>Two bounds that are never stored let a partition be cut out of the table's sorted map: a missing sort key sorts
 * before every sort key, and {@link #partitionEnd}'s marker (a NULL value, which no key attribute can be) after.
 */
record PrimaryKey(Value hash, @Nullable Value range) implements Comparable<PrimaryKey> {

  @Override
  public int compareTo(PrimaryKey other) {
    int c = Value.compare(hash, other.hash);
    if (c != 0) {
      return c;
    }
    int mine = rank(range);
    int theirs = rank(other.range);
    if (mine != theirs) {
      return Integer.compare(mine, theirs);
    }
    return mine == 1 ? Value.compare(range, other.range) : 0;
  }

  private static int rank(@Nullable Value range) {
    return range == null ? 0 : range instanceof Value.Null ? 2 : 1;
  }

  /** Sorts before every key of the partition. */
  static PrimaryKey partitionStart(Value hash) {
    return new PrimaryKey(hash, null);
  }

  /** Sorts after every key of the partition. */
  static PrimaryKey partitionEnd(Value hash) {
    return new PrimaryKey(hash, new Value.Null());
  }
}
