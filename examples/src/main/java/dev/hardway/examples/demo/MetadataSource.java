package dev.hardway.examples.demo;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * Reads role credentials from a metadata endpoint (IMDSv2) on every call, without caching: the caching is the chain's
 * ({@code HardwayCredentialsProvider}), which resolves at least every few seconds here so that a role switched with
 * {@code use} reaches every client within the compressed day. (The SDK's own metadata provider keeps credentials
 * until they are close to expiry.)
 */
final class MetadataSource implements AwsCredentialsProvider {
  private static final Pattern FIELD = Pattern.compile("\"(AccessKeyId|SecretAccessKey|Token|Expiration)\"\\s*:\\s*"
      + "\"([^\"]*)\"");
  private final URI endpoint;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  private volatile long fetches;

  MetadataSource(URI endpoint) {
    this.endpoint = endpoint;
  }

  long fetches() {
    return fetches;
  }

  @Override
  public AwsCredentials resolveCredentials() {
    try {
      String token = send(HttpRequest.newBuilder(endpoint.resolve("/latest/api/token"))
          .header("X-aws-ec2-metadata-token-ttl-seconds", "60").PUT(HttpRequest.BodyPublishers.noBody()));
      String base = "/latest/meta-data/iam/security-credentials/";
      String role = send(HttpRequest.newBuilder(endpoint.resolve(base)).header("X-aws-ec2-metadata-token", token))
          .lines().findFirst().orElseThrow(() -> SdkClientException.create("the metadata endpoint names no role"));
      String json = send(HttpRequest.newBuilder(endpoint.resolve(base + role))
          .header("X-aws-ec2-metadata-token", token));
      String id = null;
      String secret = null;
      String session = null;
      Instant expiration = null;
      Matcher m = FIELD.matcher(json);
      while (m.find()) {
        switch (m.group(1)) {
          case "AccessKeyId" -> id = m.group(2);
          case "SecretAccessKey" -> secret = m.group(2);
          case "Token" -> session = m.group(2);
          default -> expiration = Instant.parse(m.group(2));
        }
      }
      if (id == null || secret == null || session == null) {
        throw SdkClientException.create("the metadata endpoint's credentials lack a field: " + json.length()
            + " characters, key id " + id);
      }
      fetches++;
      return AwsSessionCredentials.builder().accessKeyId(id).secretAccessKey(secret).sessionToken(session)
          .expirationTime(expiration).build();
    } catch (IOException e) {
      throw SdkClientException.create("the metadata endpoint " + endpoint + " did not answer: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw SdkClientException.create("interrupted while reading " + endpoint, e);
    }
  }

  private String send(HttpRequest.Builder request) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(request.timeout(Duration.ofSeconds(2)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw SdkClientException.create("the metadata endpoint answered " + r.statusCode() + " to "
          + r.request().method() + " " + r.uri().getPath());
    }
    return r.body();
  }
}
