package dev.hardway.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/** S3 (s3proxy) through the SDK's S3 client. */
@LocalAwsTest(Service.S3)
class S3ServiceTest {

  @Test
  void putThenRangedGet_returnsTheRequestedBytes(S3Client s3, Fresh fresh) {
    String bucket = fresh.bucket();
    s3.putObject(b -> b.bucket(bucket).key("a/b.txt"), RequestBody.fromString("0123456789abcdef"));

    String whole = s3.getObjectAsBytes(b -> b.bucket(bucket).key("a/b.txt")).asUtf8String();
    String range = s3.getObjectAsBytes(b -> b.bucket(bucket).key("a/b.txt").range("bytes=4-9")).asUtf8String();

    assertThat(whole).isEqualTo("0123456789abcdef");
    assertThat(range).isEqualTo("456789");
  }

  @Test
  void multipartUpload_joinsParts_andRangesSpanThem(S3Client s3, Fresh fresh) {
    String bucket = fresh.bucket();
    byte[] part1 = new byte[5 * 1024 * 1024];
    Arrays.fill(part1, (byte) 'a');
    byte[] part2 = "tail-of-the-object".getBytes(StandardCharsets.US_ASCII);
    String uploadId = s3.createMultipartUpload(b -> b.bucket(bucket).key("big")).uploadId();
    String etag1 = s3.uploadPart(b -> b.bucket(bucket).key("big").uploadId(uploadId).partNumber(1),
        RequestBody.fromBytes(part1)).eTag();
    String etag2 = s3.uploadPart(b -> b.bucket(bucket).key("big").uploadId(uploadId).partNumber(2),
        RequestBody.fromBytes(part2)).eTag();
    s3.completeMultipartUpload(b -> b.bucket(bucket).key("big").uploadId(uploadId).multipartUpload(m -> m.parts(
        CompletedPart.builder().partNumber(1).eTag(etag1).build(),
        CompletedPart.builder().partNumber(2).eTag(etag2).build())));

    long size = s3.headObject(b -> b.bucket(bucket).key("big")).contentLength();
    int start = part1.length - 3;
    String across = s3.getObjectAsBytes(b -> b.bucket(bucket).key("big")
        .range("bytes=" + start + "-" + (start + 7))).asUtf8String();

    assertThat(size).isEqualTo(part1.length + part2.length);
    assertThat(across).isEqualTo("aaatail-");
  }

  @Test
  void listObjectsV2_pagesThroughEveryKey(S3Client s3, Fresh fresh) {
    String bucket = fresh.bucket();
    for (int i = 0; i < 7; i++) {
      int n = i;
      s3.putObject(b -> b.bucket(bucket).key("logs/" + n), RequestBody.fromString("x"));
    }
    s3.putObject(b -> b.bucket(bucket).key("other/z"), RequestBody.fromString("x"));

    List<String> keys = new ArrayList<>();
    int pages = 0;
    String token = null;
    do {
      String t = token;
      ListObjectsV2Response page = s3.listObjectsV2(b -> b.bucket(bucket).prefix("logs/").maxKeys(3)
          .continuationToken(t));
      page.contents().stream().map(S3Object::key).forEach(keys::add);
      token = page.nextContinuationToken();
      pages++;
    } while (token != null);

    assertThat(keys).containsExactly("logs/0", "logs/1", "logs/2", "logs/3", "logs/4", "logs/5", "logs/6");
    assertThat(pages).isEqualTo(3);
  }

  @Test
  void missingKey_isNoSuchKey(S3Client s3, Fresh fresh) {
    String bucket = fresh.bucket();

    assertThatThrownBy(() -> s3.getObject(b -> b.bucket(bucket).key("nope")))
        .isInstanceOf(NoSuchKeyException.class);
  }

  @Test
  void wrongSecret_isRefusedWith403(LocalAws aws, Fresh fresh) {
    String bucket = fresh.bucket();
    try (S3Client forged = aws.configure(S3Client.builder())
        .credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(LocalAws.DEFAULT_ACCESS_KEY_ID, "wrong-secret")))
        .build()) {
      assertThatThrownBy(() -> forged.listObjectsV2(b -> b.bucket(bucket)))
          .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(403));
    }
  }
}
