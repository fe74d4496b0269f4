package dev.hardway.s3pager.internal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * How the handler process reaches S3, sent over its standard input when it starts (never on the command line, where
 * the credentials would show in the process list).
 *
 * @param endpoint the S3 endpoint override, or null for the region's
 * @param region the region
 * @param pathStyle whether to address buckets by path
 * @param maxConnections the size of the handler's connection pool
 * @param accessKeyId the credentials snapshot
 * @param secretAccessKey the credentials snapshot
 * @param sessionToken the credentials snapshot, or null
 */
public record ClientConfig(
    @Nullable String endpoint,
    String region,
    boolean pathStyle,
    int maxConnections,
    String accessKeyId,
    String secretAccessKey,
    @Nullable String sessionToken) {

  void write(DataOutputStream out) throws IOException {
    PagerConfig.writeNullable(out, endpoint);
    out.writeUTF(region);
    out.writeBoolean(pathStyle);
    out.writeInt(maxConnections);
    out.writeUTF(accessKeyId);
    out.writeUTF(secretAccessKey);
    PagerConfig.writeNullable(out, sessionToken);
  }

  static ClientConfig read(DataInputStream in) throws IOException {
    return new ClientConfig(PagerConfig.readNullable(in), in.readUTF(), in.readBoolean(), in.readInt(), in.readUTF(),
        in.readUTF(), PagerConfig.readNullable(in));
  }

  @Override
  public String toString() {
    // Never print the secret.
    return "ClientConfig[" + (endpoint == null ? region : endpoint) + "]";
  }
}
