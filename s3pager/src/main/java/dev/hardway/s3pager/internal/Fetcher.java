package dev.hardway.s3pager.internal;

import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;

/**
 * Ranged GETs of one object version, pinned with If-Match (or the version id). The SDK's own retries are off: the
 * engine retries with its own backoff and resumes a chunk where its body broke off.
 */
final class Fetcher implements AutoCloseable {
  private final PagerConfig config;
  private final S3Client s3;
  private volatile AwsCredentials credentials;

  Fetcher(PagerConfig config) {
    this.config = config;
    this.credentials = credentials(config.accessKeyId(), config.secretAccessKey(), config.sessionToken());
    AwsCredentialsProvider provider = () -> credentials;
    S3ClientBuilder builder = S3Client.builder()
        .region(Region.of(config.region()))
        .credentialsProvider(provider)
        .forcePathStyle(config.pathStyle())
        .httpClientBuilder(Apache5HttpClient.builder().maxConnections(config.fetchThreads() + 2)
            .connectionTimeout(Duration.ofSeconds(5)).socketTimeout(Duration.ofSeconds(30)))
        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()));
    String endpoint = config.endpoint();
    if (endpoint != null) {
      builder.endpointOverride(URI.create(endpoint));
    }
    this.s3 = builder.build();
  }

  static AwsCredentials credentials(String accessKeyId, String secret, @org.jspecify.annotations.Nullable String token) {
    return token == null ? AwsBasicCredentials.create(accessKeyId, secret)
        : AwsSessionCredentials.create(accessKeyId, secret, token);
  }

  /** Replaces the credentials snapshot (the application sends fresh ones when its provider refreshes). */
  void credentials(AwsCredentials fresh) {
    this.credentials = fresh;
  }

  /**
   * Opens the body of bytes {@code first..last} (inclusive).
   *
   * @param first the first byte
   * @param last the last byte
   * @return the body; close it
   * @throws PermanentFetchException for 403, 404, 412 and 416
   * @throws RuntimeException for anything transient
   */
  InputStream open(long first, long last) {
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
        throw new PermanentFetchException(describe(status, e), e);
      }
      throw e;
    }
  }

  private String describe(int status, AwsServiceException e) {
    String object = "s3://" + config.bucket() + "/" + config.key();
    String what = switch (status) {
      case 404 -> "not found (404)";
      case 403 -> "access denied (403)";
      case 412 -> "changed since it was opened (412: its ETag is no longer " + config.eTag() + ")";
      default -> "range not satisfiable (416)";
    };
    return object + " " + what + ": " + e.awsErrorDetails().errorCode();
  }

  @Override
  public void close() {
    s3.close();
  }

  /** A failure that retrying cannot fix. */
  static final class PermanentFetchException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PermanentFetchException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
