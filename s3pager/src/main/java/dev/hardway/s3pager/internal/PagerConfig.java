package dev.hardway.s3pager.internal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * One opened object and how to page it, as handed to the handler process over its standard input.
 *
 * @param objectSize bytes in the object
 * @param chunkSize bytes per chunk (page multiple): the unit of fetching, residency and eviction
 * @param pieceSize bytes installed at a time while a chunk's body arrives
 * @param readaheadInitial chunks fetched ahead on a first access
 * @param readaheadMax chunks fetched ahead at most on sequential access
 * @param budgetBytes resident bytes above which chunks are evicted
 * @param fetchThreads concurrent GETs
 * @param maxAttempts attempts per chunk before it fails
 * @param backoffBaseMillis first retry delay
 * @param backoffMaxMillis largest retry delay
 * @param markers whether readahead chunks hold back their first page to trigger the next fetch
 * @param bucket the bucket
 * @param key the key
 * @param versionId the version to read, or null
 * @param eTag the ETag every GET is pinned to with If-Match, or null
 * @param firstInstalled bytes at the start of the object installed already by {@code open} (a page multiple, or the
 *     whole object)
 */
public record PagerConfig(
    long objectSize,
    long chunkSize,
    long pieceSize,
    int readaheadInitial,
    int readaheadMax,
    long budgetBytes,
    int fetchThreads,
    int maxAttempts,
    long backoffBaseMillis,
    long backoffMaxMillis,
    boolean markers,
    String bucket,
    String key,
    @Nullable String versionId,
    @Nullable String eTag,
    long firstInstalled) {

  /**
   * How many chunks the object has.
   *
   * @return the count
   */
  public int chunks() {
    return (int) ((objectSize + chunkSize - 1) / chunkSize);
  }

  void write(DataOutputStream out) throws IOException {
    out.writeLong(objectSize);
    out.writeLong(chunkSize);
    out.writeLong(pieceSize);
    out.writeInt(readaheadInitial);
    out.writeInt(readaheadMax);
    out.writeLong(budgetBytes);
    out.writeInt(fetchThreads);
    out.writeInt(maxAttempts);
    out.writeLong(backoffBaseMillis);
    out.writeLong(backoffMaxMillis);
    out.writeBoolean(markers);
    out.writeUTF(bucket);
    out.writeUTF(key);
    writeNullable(out, versionId);
    writeNullable(out, eTag);
    out.writeLong(firstInstalled);
  }

  static PagerConfig read(DataInputStream in) throws IOException {
    return new PagerConfig(in.readLong(), in.readLong(), in.readLong(), in.readInt(), in.readInt(), in.readLong(),
        in.readInt(), in.readInt(), in.readLong(), in.readLong(), in.readBoolean(), in.readUTF(), in.readUTF(),
        readNullable(in), readNullable(in), in.readLong());
  }

  static void writeNullable(DataOutputStream out, @Nullable String value) throws IOException {
    out.writeBoolean(value != null);
    if (value != null) {
      out.writeUTF(value);
    }
  }

  static @Nullable String readNullable(DataInputStream in) throws IOException {
    return in.readBoolean() ? in.readUTF() : null;
  }

  @Override
  public String toString() {
    return "PagerConfig[s3://" + bucket + "/" + key + ", size=" + objectSize + ", chunk=" + chunkSize + "]";
  }
}
