package dev.hardway.s3pager;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import java.net.URI;
import java.util.SplittableRandom;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/** Test objects: deterministic random bytes, put into the test kit's S3. */
final class Objects3 {
  private Objects3() { }

  static byte[] bytes(int size, long seed) {
    byte[] b = new byte[size];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  static byte[] put(S3Client s3, String bucket, String key, int size) {
    byte[] b = bytes(size, key.hashCode() * 31L + size);
    s3.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromBytes(b));
    return b;
  }

  static S3Pager.Builder pager(LocalAws aws) {
    return pager(aws, aws.endpoint(Service.S3));
  }

  static S3Pager.Builder pager(LocalAws aws, URI endpoint) {
    return S3Pager.builder().endpoint(endpoint).region(aws.region().id())
        .credentialsProvider(aws.credentialsProvider()).pathStyle(true)
        .chunkSize(256 << 10).pieceSize(64 << 10);
  }
}
