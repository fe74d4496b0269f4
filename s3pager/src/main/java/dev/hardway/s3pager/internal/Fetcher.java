package dev.hardway.s3pager.internal;

import java.net.URI;
import java.time.Duration;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * Ranged GETs of one object version, pinned with If-Match (or the version id), on a client shared by every object of
 * a pager. The SDK's own retries are off: the engine retries with its own backoff and resumes a chunk where its body
 * broke off.
 */
final class Fetcher {
  private final PagerConfig config;
  private final S3Client s3;

  Fetcher(PagerConfig config, S3Client s3) {
    this.config = config;
    this.s3 = s3;
  }

  /**
   * A client for fetching: no SDK retries, bounded connect and read timeouts.
   *
   * @param config where and how
   * @param credentials the current credentials (the handler's snapshot, replaced when the application sends fresh
   *     ones)
   * @return the client; close it
   */
  static S3Client client(ClientConfig config, Supplier<AwsCredentials> credentials) {
    S3ClientBuilder builder = S3Client.builder()
        .region(Region.of(config.region()))
        .credentialsProvider(credentials::get)
        .forcePathStyle(config.pathStyle())
        .httpClientBuilder(Apache5HttpClient.builder().maxConnections(config.maxConnections())
            .connectionTimeout(Duration.ofSeconds(5)).socketTimeout(Duration.ofSeconds(30)))
        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()));
    String endpoint = config.endpoint();
    if (endpoint != null) {
      builder.endpointOverride(URI.create(endpoint));
    }
    return builder.build();
  }

  static AwsCredentials credentials(String accessKeyId, String secret, @Nullable String token) {
    return token == null ? AwsBasicCredentials.create(accessKeyId, secret)
        : AwsSessionCredentials.create(accessKeyId, secret, token);
  }

  /**
   * Opens the body of bytes {@code first..last} (inclusive).
   *
   * @param first the first byte
   * @param last the last byte
   * @return the body; close it, or abort it when abandoning it early
   * @throws PermanentFetchException for 403, 404, 412 and 416
   * @throws RuntimeException for anything transient
   */
  ResponseInputStream<GetObjectResponse> open(long first, long last) {
    GetObjectRequest.Builder request = GetObjectRequest.builder().bucket(config.bucket()).key(config.key())
        .range("bytes=" + first + "-" + last);
    if (config.versionId() != null) {
      request.versionId(config.versionId());
    }
    if (config.eTag() != null) {
      request.ifMatch(config.eTag());
    }
    try {
      return s3.getObject(request.build());
    } catch (AwsServiceException e) {
      int status = e.statusCode();
      if (status == 403 || status == 404 || status == 412 || status == 416) {
        throw new PermanentFetchException(describe(config.bucket(), config.key(), config.eTag(), status, e), e);
      }
      throw e;
    }
  }

  static String describe(String bucket, String key, @Nullable String eTag, int status, AwsServiceException e) {
    String object = "s3://" + bucket + "/" + key;
    String what = switch (status) {
      case 404 -> "not found (404)";
      case 403 -> "access denied (403)";
      case 412 -> "changed since it was opened (412: its ETag is no longer " + eTag + ")";
      case 416 -> "range not satisfiable (416)";
      default -> "answered " + status;
    };
    String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    return object + " " + what + (code == null ? "" : ": " + code);
  }

  /** A failure that retrying cannot fix. */
  static final class PermanentFetchException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PermanentFetchException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
