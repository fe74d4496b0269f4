package dev.hardway.testkit.internal;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * AWS Signature Version 4, as a server checks it: parse the {@code Authorization} header, rebuild the canonical
 * request from what arrived on the wire, and compare signatures in constant time.
 *
 * <p>Only header-based signing is supported (what the SDKs use for API calls); presigned query strings are not.
 */
public final class SigV4 {

  /** The only algorithm the SDKs use for SigV4 header signing. */
  public static final String ALGORITHM = "AWS4-HMAC-SHA256";

  private static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final HexFormat HEX = HexFormat.of();

  private SigV4() {}

  /** Why a request's signature could not be accepted; the message is fit to send back to the client. */
  public static final class SignatureException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What was wrong, in AWS's terms. */
    public enum Reason {
      /** No {@code Authorization} header. */
      MISSING,
      /** The header could not be parsed. */
      MALFORMED,
      /** The signature does not match. */
      MISMATCH,
      /** The request time is too far from the server's. */
      EXPIRED
    }

    private final Reason reason;

    SignatureException(Reason reason, String message) {
      super(message);
      this.reason = reason;
    }

    /**
     * Why the signature was refused.
     *
     * @return the reason
     */
    public Reason reason() {
      return reason;
    }
  }

  /**
   * The parts of an {@code Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…} header.
   *
   * @param accessKeyId the access key id from the credential scope
   * @param date the scope date, {@code yyyyMMdd}
   * @param region the scope region
   * @param service the scope service, e.g. {@code sts}
   * @param signedHeaders the signed header names, lower case, in the order given
   * @param signature the hex signature
   */
  public record Authorization(
      String accessKeyId, String date, String region, String service, List<String> signedHeaders, String signature) {

    /**
     * The credential scope, {@code date/region/service/aws4_request}.
     *
     * @return the scope
     */
    public String scope() {
      return date + "/" + region + "/" + service + "/aws4_request";
    }
  }

  /**
   * Parses an {@code Authorization} header.
   *
   * @param header the header value, or null when absent
   * @return the parts
   * @throws SignatureException when absent or malformed
   */
  public static Authorization parse(@Nullable String header) throws SignatureException {
    if (header == null || header.isBlank()) {
      throw new SignatureException(SignatureException.Reason.MISSING, "Request is missing Authentication Token");
    }
    if (!header.startsWith(ALGORITHM + " ")) {
      throw malformed("Unsupported signing algorithm in the Authorization header: "
          + header.substring(0, Math.min(header.length(), 40)));
    }
    String credential = null;
    String signedHeaders = null;
    String signature = null;
    for (String part : header.substring(ALGORITHM.length() + 1).split(",")) {
      String p = part.trim();
      int eq = p.indexOf('=');
      if (eq < 0) {
        throw malformed("Authorization header part without '=': " + p);
      }
      String value = p.substring(eq + 1);
      switch (p.substring(0, eq)) {
        case "Credential" -> credential = value;
        case "SignedHeaders" -> signedHeaders = value;
        case "Signature" -> signature = value;
        default -> throw malformed("Unknown Authorization header part: " + p.substring(0, eq));
      }
    }
    if (credential == null || signedHeaders == null || signature == null) {
      throw malformed("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'");
    }
    String[] scope = credential.split("/", -1);
    if (scope.length != 5 || !"aws4_request".equals(scope[4]) || scope[0].isEmpty()) {
      throw malformed("Credential should be scoped to a valid region, not '" + credential + "'");
    }
    return new Authorization(
        scope[0], scope[1], scope[2], scope[3], List.of(signedHeaders.split(";")), signature);
  }

  /**
   * Checks a request's signature.
   *
   * @param auth the parsed {@code Authorization} header
   * @param secretAccessKey the secret belonging to {@code auth.accessKeyId()}
   * @param method the HTTP method
   * @param rawPath the path as sent (percent-encoded)
   * @param rawQuery the query as sent, without {@code ?}
   * @param headers every header, names lower case
   * @param body the request body
   * @param now the server's current time, for the request-time window
   * @param maxSkewSeconds how far the request time may be from {@code now}
   * @param s3Style true for S3 (path used as is), false for other services (path encoded once more)
   * @throws SignatureException when the signature does not match or the request time is outside the window
   */
  public static void verify(
      Authorization auth,
      String secretAccessKey,
      String method,
      String rawPath,
      String rawQuery,
      Map<String, List<String>> headers,
      byte[] body,
      Instant now,
      long maxSkewSeconds,
      boolean s3Style)
      throws SignatureException {
    String amzDate = first(headers, "x-amz-date");
    if (amzDate == null) {
      throw malformed("Authorization header requires existence of a 'X-Amz-Date' header");
    }
    Instant requestTime;
    try {
      requestTime = Instant.from(AMZ_DATE.parse(amzDate));
    } catch (DateTimeParseException e) {
      throw malformed("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", got '" + amzDate + "'");
    }
    if (!amzDate.startsWith(auth.date())) {
      throw new SignatureException(SignatureException.Reason.MISMATCH,
          "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"
              + auth.date() + "' != '" + amzDate.substring(0, Math.min(8, amzDate.length())) + "'");
    }
    long skew = Math.abs(requestTime.getEpochSecond() - now.getEpochSecond());
    if (skew > maxSkewSeconds) {
      String earliest = AMZ_DATE.format(now.minusSeconds(maxSkewSeconds));
      throw new SignatureException(SignatureException.Reason.EXPIRED,
          "Signature expired: " + amzDate + " is now earlier than " + earliest + " ("
              + AMZ_DATE.format(now) + " - " + (maxSkewSeconds / 60) + " min.)");
    }
    if (!auth.signedHeaders().contains("host")) {
      throw malformed("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }
    String payloadHash = first(headers, "x-amz-content-sha256");
    if (payloadHash == null || !s3Style) {
      payloadHash = HEX.formatHex(sha256(body));
    }
    String canonical = canonicalRequest(method, rawPath, rawQuery, headers, auth.signedHeaders(), payloadHash, s3Style);
    String expected = signature(secretAccessKey, auth, amzDate, canonical);
    if (!MessageDigest.isEqual(
        expected.getBytes(StandardCharsets.US_ASCII), auth.signature().getBytes(StandardCharsets.US_ASCII))) {
      throw new SignatureException(SignatureException.Reason.MISMATCH,
          "The request signature we calculated does not match the signature you provided. Check your AWS Secret"
              + " Access Key and signing method. Consult the service documentation for details.");
    }
  }

  /**
   * Signs a canonical request.
   *
   * @param secretAccessKey the secret key
   * @param auth the scope to sign for
   * @param amzDate the request time, {@code yyyyMMdd'T'HHmmss'Z'}
   * @param canonicalRequest the canonical request
   * @return the hex signature
   */
  private static String signature(String secretAccessKey, Authorization auth, String amzDate, String canonicalRequest) {
    String stringToSign = ALGORITHM + "\n" + amzDate + "\n" + auth.scope() + "\n"
        + HEX.formatHex(sha256(canonicalRequest.getBytes(StandardCharsets.UTF_8)));
    byte[] key = hmac(("AWS4" + secretAccessKey).getBytes(StandardCharsets.UTF_8), auth.date());
    key = hmac(key, auth.region());
    key = hmac(key, auth.service());
    key = hmac(key, "aws4_request");
    return HEX.formatHex(hmac(key, stringToSign));
  }

  /**
   * Builds the canonical request.
   *
   * @param method the HTTP method
   * @param rawPath the path as sent
   * @param rawQuery the query as sent
   * @param headers every header, names lower case
   * @param signedHeaders the signed header names, lower case
   * @param payloadHash hex SHA-256 of the body, or the value of {@code x-amz-content-sha256}
   * @param s3Style true to use the path as is (S3), false to encode it once more (every other service)
   * @return the canonical request
   */
  private static String canonicalRequest(
      String method,
      String rawPath,
      String rawQuery,
      Map<String, List<String>> headers,
      List<String> signedHeaders,
      String payloadHash,
      boolean s3Style) {
    StringBuilder sb = new StringBuilder(256);
    sb.append(method).append('\n');
    sb.append(s3Style ? (rawPath.isEmpty() ? "/" : rawPath) : encodePath(rawPath)).append('\n');
    sb.append(canonicalQuery(rawQuery)).append('\n');
    for (String name : signedHeaders) {
      List<String> values = headers.getOrDefault(name, List.of());
      List<String> trimmed = new ArrayList<>(values.size());
      for (String v : values) {
        trimmed.add(v.strip().replaceAll(" +", " "));
      }
      sb.append(name).append(':').append(String.join(",", trimmed)).append('\n');
    }
    sb.append('\n').append(String.join(";", signedHeaders)).append('\n').append(payloadHash);
    return sb.toString();
  }

  private static String encodePath(String rawPath) {
    if (rawPath.isEmpty() || "/".equals(rawPath)) {
      return "/";
    }
    String[] segments = rawPath.split("/", -1);
    StringBuilder sb = new StringBuilder(rawPath.length() + 16);
    for (int i = 0; i < segments.length; i++) {
      if (i > 0) {
        sb.append('/');
      }
      sb.append(uriEncode(segments[i]));
    }
    return sb.toString();
  }

  private static String canonicalQuery(String rawQuery) {
    if (rawQuery.isEmpty()) {
      return "";
    }
    List<String[]> pairs = new ArrayList<>();
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      pairs.add(new String[] {uriEncode(decode(name)), uriEncode(decode(value))});
    }
    pairs.sort((a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
    StringBuilder sb = new StringBuilder(rawQuery.length() + 16);
    for (String[] p : pairs) {
      if (!sb.isEmpty()) {
        sb.append('&');
      }
      sb.append(p[0]).append('=').append(p[1]);
    }
    return sb.toString();
  }

  private static String decode(String s) {
    // '+' is a literal plus in SigV4 query strings, not a space.
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /**
   * RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 requires.
   *
   * @param s the text
   * @return the encoded text
   */
  private static String uriEncode(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder(bytes.length + 8);
    for (byte b : bytes) {
      int c = b & 0xff;
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_' || c == '.' || c == '~') {
        sb.append((char) c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return sb.toString();
  }

  private static @Nullable String first(Map<String, List<String>> headers, String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private static SignatureException malformed(String message) {
    return new SignatureException(SignatureException.Reason.MALFORMED, message);
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  private static byte[] hmac(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
    }
  }
}
