package dev.hardway.s3pager.internal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * Everything the engine needs, as handed to the handler process over its standard input (never on the command line,
 * where credentials would show in the process list).
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
 * @param endpoint the S3 endpoint override, or null for the region's
 * @param region the region
 * @param pathStyle whether to address buckets by path
 * @param accessKeyId the credentials snapshot
 * @param secretAccessKey the credentials snapshot
 * @param sessionToken the credentials snapshot, or null
 * @param bucket the bucket
 * @param key the key
 * @param versionId the version to read, or null
 * @param eTag the ETag every GET is pinned to with If-Match, or null
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
    @Nullable String endpoint,
    String region,
    boolean pathStyle,
    String accessKeyId,
    String secretAccessKey,
    @Nullable String sessionToken,
    String bucket,
    String key,
    @Nullable String versionId,
    @Nullable String eTag) {

  /**
   * How many chunks the object has.
   *
   * @return the count
   */
  public int chunks() {
    return (int) ((objectSize + chunkSize - 1) / chunkSize);
  }

  /**
   * Writes this configuration.
   *
   * @param out where to
   * @throws IOException when the stream fails
   */
  public void write(DataOutputStream out) throws IOException {
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
    writeNullable(out, endpoint);
    out.writeUTF(region);
    out.writeBoolean(pathStyle);
    out.writeUTF(accessKeyId);
    out.writeUTF(secretAccessKey);
    writeNullable(out, sessionToken);
    out.writeUTF(bucket);
    out.writeUTF(key);
    writeNullable(out, versionId);
    writeNullable(out, eTag);
  }

  /**
   * Reads a configuration written by {@link #write}.
   *
   * @param in where from
   * @return the configuration
   * @throws IOException when the stream fails
   */
  public static PagerConfig read(DataInputStream in) throws IOException {
    return new PagerConfig(in.readLong(), in.readLong(), in.readLong(), in.readInt(), in.readInt(), in.readLong(),
        in.readInt(), in.readInt(), in.readLong(), in.readLong(), in.readBoolean(), readNullable(in), in.readUTF(),
        in.readBoolean(), in.readUTF(), in.readUTF(), readNullable(in), in.readUTF(), in.readUTF(), readNullable(in),
        readNullable(in));
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
    // Never print the secret.
    return "PagerConfig[s3://" + bucket + "/" + key + ", size=" + objectSize + ", chunk=" + chunkSize + "]";
  }
}
