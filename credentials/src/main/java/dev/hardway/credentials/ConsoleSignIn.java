package dev.hardway.credentials;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

/**
 * Turns temporary role credentials into an AWS console sign-in URL, as Holochrome and {@code hologram console} do:
 * the federation endpoint's {@code getSigninToken} exchanges the credentials for a sign-in token, and the URL
 * ({@code Action=login}) signs the browser in with that token and sends it to the destination.
 *
 * <pre>{@code
 * try (ConsoleSignIn console = ConsoleSignIn.builder()
 *     .issuer("https://hardway.example.com/")
 *     .sessionDuration(Duration.ofHours(1))
 *     .build()) {
 *   URI url = console.signInUrl(provider.resolveCredentials());   // open it in the user's browser
 * }
 * }</pre>
 *
 * <p>Only temporary credentials work: AWS's endpoint takes credentials from {@code AssumeRole} (or
 * {@code GetFederationToken}); it refuses long-term keys, {@code GetSessionToken} credentials, and a
 * {@code SessionDuration} with credentials that were themselves obtained with temporary credentials (role chaining:
 * leave {@link Builder#sessionDuration} unset for those). The sign-in URL is good for 15 minutes.
 *
 * <p><b>Secrets.</b> The credentials, the sign-in token and the URL are secrets: none of them appears in an exception
 * message, a log line or {@link #toString()}. An error names what failed (the HTTP status, the endpoint) and nothing
 * else; network exceptions are not attached as causes, since their messages may quote the request.
 *
 * <p>Thread-safe. {@link #close()} closes the HTTP client if this instance made it.
 */
public final class ConsoleSignIn implements AutoCloseable {
  /** AWS's federation endpoint. */
  public static final URI DEFAULT_FEDERATION_ENDPOINT = URI.create("https://signin.aws.amazon.com/federation");
  /** The AWS console's home page. */
  public static final URI DEFAULT_DESTINATION = URI.create("https://console.aws.amazon.com/");
  private static final Duration MIN_SESSION = Duration.ofSeconds(900);
  private static final Duration MAX_SESSION = Duration.ofSeconds(43_200);

  private final URI federationEndpoint;
  private final URI destination;
  private final @Nullable String issuer;
  private final @Nullable Duration sessionDuration;
  private final Duration requestTimeout;
  private final @Nullable HttpClient givenClient;
  private final HttpClient http;
  private final InstantSource clock;
  private volatile boolean closed;

  private ConsoleSignIn(Builder b) {
    this.federationEndpoint = b.federationEndpoint;
    this.destination = b.destination;
    this.issuer = b.issuer;
    this.sessionDuration = b.sessionDuration;
    this.requestTimeout = b.requestTimeout;
    this.givenClient = b.httpClient;
    this.clock = b.clock;
    this.http = b.httpClient != null ? b.httpClient : HttpClient.newBuilder()
        // HTTP/1.1 as the endpoint speaks it; no h2c upgrade dance on plain-HTTP test endpoints.
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(b.requestTimeout)
        .build();
  }

  /**
   * Starts a configuration.
   *
   * @return a builder with the defaults
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A sign-in with every default: AWS's endpoint, the console home, no issuer, AWS's default session length.
   *
   * @return the sign-in
   */
  public static ConsoleSignIn create() {
    return builder().build();
  }

  /**
   * A builder holding this configuration (and the HTTP client, if one was given).
   *
   * @return a builder
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.federationEndpoint = federationEndpoint;
    b.destination = destination;
    b.issuer = issuer;
    b.sessionDuration = sessionDuration;
    b.requestTimeout = requestTimeout;
    b.httpClient = givenClient;
    b.clock = clock;
    return b;
  }

  /**
   * Exchanges temporary credentials for a sign-in token and builds the console sign-in URL.
   *
   * @param credentials temporary credentials with a session token, e.g. from {@code AssumeRole}
   * @return {@code <endpoint>?Action=login&Issuer=…&Destination=…&SigninToken=…}; a secret, valid for 15 minutes
   * @throws IllegalArgumentException when the credentials are long-term (no session token, or an {@code AKIA} key)
   * @throws CredentialsException when the credentials have expired (per their expiration time and the clock), the
   *     endpoint refuses them (not retryable), or the endpoint fails, times out or cannot be reached (retryable)
   * @throws IllegalStateException when closed
   */
  public URI signInUrl(AwsCredentialsIdentity credentials) {
    Objects.requireNonNull(credentials, "credentials");
    if (closed) {
      throw new IllegalStateException("this ConsoleSignIn is closed");
    }
    if (!(credentials instanceof AwsSessionCredentialsIdentity session)) {
      throw new IllegalArgumentException("console sign-in needs temporary credentials with a session token (from"
          + " AssumeRole); got long-term credentials, which the federation endpoint refuses");
    }
    if (session.accessKeyId().startsWith("AKIA")) {
      throw new IllegalArgumentException("console sign-in needs temporary credentials (access key ids starting ASIA);"
          + " got a long-term access key (AKIA…) with a session token");
    }
    Optional<Instant> expiration = session.expirationTime();
    if (expiration.isPresent() && !clock.instant().isBefore(expiration.get())) {
      throw new CredentialsException("cannot sign in to the console: the credentials expired at " + expiration.get()
          + "; get fresh ones", false);
    }
    String sessionJson = "{\"sessionId\":" + jsonString(session.accessKeyId()) + ",\"sessionKey\":"
        + jsonString(session.secretAccessKey()) + ",\"sessionToken\":" + jsonString(session.sessionToken()) + "}";
    String query = "Action=getSigninToken"
        + (sessionDuration == null ? "" : "&SessionDuration=" + sessionDuration.toSeconds())
        + "&Session=" + encode(sessionJson);
    HttpRequest request = HttpRequest.newBuilder(URI.create(federationEndpoint + "?" + query))
        .timeout(requestTimeout)
        .header("Accept", "application/json")
        .GET()
        .build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (HttpTimeoutException e) {
      throw new CredentialsException("federation endpoint " + federationEndpoint + " did not answer getSigninToken"
          + " within " + requestTimeout, true);
    } catch (IOException e) {
      throw new CredentialsException("federation endpoint " + federationEndpoint + " could not be reached for"
          + " getSigninToken (" + e.getClass().getSimpleName() + ")", true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CredentialsException("interrupted while asking " + federationEndpoint + " for a sign-in token", true);
    }
    int status = response.statusCode();
    if (status != 200) {
      boolean retryable = status >= 500 || status == 429;
      throw new CredentialsException("federation endpoint " + federationEndpoint + " answered getSigninToken with HTTP "
          + status + (retryable ? " (a server-side failure; try again)"
              : status == 400 || status == 403
                  ? ": it refused the credentials (expired or revoked, not from AssumeRole, or role-chained with a"
                      + " SessionDuration)"
                  : ""), retryable);
    }
    String token = signinToken(response.body());
    if (token == null || token.isEmpty()) {
      throw new CredentialsException("federation endpoint " + federationEndpoint
          + " answered getSigninToken with HTTP 200 but no SigninToken in the body", true);
    }
    return URI.create(federationEndpoint + "?Action=login"
        + (issuer == null ? "" : "&Issuer=" + encode(issuer))
        + "&Destination=" + encode(destination.toString())
        + "&SigninToken=" + encode(token));
  }

  /**
   * The federation endpoint.
   *
   * @return the endpoint URI
   */
  public URI federationEndpoint() {
    return federationEndpoint;
  }

  /**
   * Where the browser lands once signed in.
   *
   * @return the destination URI
   */
  public URI destination() {
    return destination;
  }

  /**
   * The issuer sent with the login URL (where AWS sends the user when the session ends), if set.
   *
   * @return the issuer, or empty
   */
  public Optional<String> issuer() {
    return Optional.ofNullable(issuer);
  }

  /**
   * The console session length asked for, if set.
   *
   * @return the duration, or empty for the endpoint's default
   */
  public Optional<Duration> sessionDuration() {
    return Optional.ofNullable(sessionDuration);
  }

  /**
   * How long the {@code getSigninToken} request may take.
   *
   * @return the timeout
   */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  /** Closes the HTTP client if this instance made it; idempotent. A client given to the builder is left open. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      if (givenClient == null) {
        http.close();
      }
    }
  }

  @Override
  public String toString() {
    return "ConsoleSignIn[" + federationEndpoint + " -> " + destination
        + (sessionDuration == null ? "" : ", session " + sessionDuration) + "]";
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  private static String jsonString(String value) {
    StringBuilder sb = new StringBuilder(value.length() + 2).append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  /** The {@code SigninToken} string of a JSON object, or null; the body is small and flat, so no JSON library. */
  static @Nullable String signinToken(String body) {
    int key = body.indexOf("\"SigninToken\"");
    if (key < 0) {
      return null;
    }
    int i = key + "\"SigninToken\"".length();
    while (i < body.length() && Character.isWhitespace(body.charAt(i))) {
      i++;
    }
    if (i >= body.length() || body.charAt(i) != ':') {
      return null;
    }
    i++;
    while (i < body.length() && Character.isWhitespace(body.charAt(i))) {
      i++;
    }
    if (i >= body.length() || body.charAt(i) != '"') {
      return null;
    }
    StringBuilder sb = new StringBuilder();
    for (i++; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == '"') {
        return sb.toString();
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (++i >= body.length()) {
        return null;
      }
      char e = body.charAt(i);
      switch (e) {
        case '"', '\\', '/' -> sb.append(e);
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> {
          if (i + 4 >= body.length()) {
            return null;
          }
          try {
            sb.append((char) Integer.parseInt(body.substring(i + 1, i + 5), 16));
          } catch (NumberFormatException x) {
            return null;
          }
          i += 4;
        }
        default -> {
          return null;
        }
      }
    }
    return null;
  }

  /** Builds a {@link ConsoleSignIn}. Not thread-safe. */
  public static final class Builder {
    private URI federationEndpoint = DEFAULT_FEDERATION_ENDPOINT;
    private URI destination = DEFAULT_DESTINATION;
    private @Nullable String issuer;
    private @Nullable Duration sessionDuration;
    private Duration requestTimeout = Duration.ofSeconds(10);
    private @Nullable HttpClient httpClient;
    private InstantSource clock = InstantSource.system();

    private Builder() {}

    /**
     * Sets the federation endpoint.
     *
     * @param endpoint an absolute {@code https} URI without query or user info ({@code http} only on a loopback
     *     address, for tests); default {@link #DEFAULT_FEDERATION_ENDPOINT}
     * @return this builder
     * @throws IllegalArgumentException when the URI is not of that form
     */
    public Builder federationEndpoint(URI endpoint) {
      Objects.requireNonNull(endpoint, "federationEndpoint");
      String scheme = endpoint.getScheme() == null ? "" : endpoint.getScheme().toLowerCase(Locale.ROOT);
      boolean ok = endpoint.isAbsolute() && endpoint.getHost() != null && endpoint.getRawQuery() == null
          && endpoint.getRawFragment() == null && endpoint.getRawUserInfo() == null
          && (scheme.equals("https") || scheme.equals("http") && isLoopback(endpoint.getHost()));
      if (!ok) {
        throw new IllegalArgumentException("federationEndpoint must be an https URI without query or user info (http"
            + " only on loopback), got " + Printable.quote(endpoint.toString()));
      }
      this.federationEndpoint = endpoint;
      return this;
    }

    /**
     * Sets where the browser lands once signed in.
     *
     * @param destination an absolute {@code https} or {@code http} URI; default {@link #DEFAULT_DESTINATION}
     * @return this builder
     * @throws IllegalArgumentException when not an absolute web URI
     */
    public Builder destination(URI destination) {
      Objects.requireNonNull(destination, "destination");
      String scheme = destination.getScheme() == null ? "" : destination.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("https") || scheme.equals("http")) || destination.getHost() == null) {
        throw new IllegalArgumentException("destination must be an absolute https (or http) URI, got "
            + Printable.quote(destination.toString()));
      }
      this.destination = destination;
      return this;
    }

    /**
     * Sets the issuer: the URL of your own sign-in page, where AWS sends the user when the console session ends.
     *
     * @param issuer 1 to 2048 characters, or {@code null} (the default) to send none
     * @return this builder
     * @throws IllegalArgumentException when blank or longer than 2048 characters
     */
    public Builder issuer(@Nullable String issuer) {
      if (issuer != null && (issuer.isBlank() || issuer.length() > 2048)) {
        throw new IllegalArgumentException("issuer must be 1 to 2048 characters, got " + Printable.quote(issuer));
      }
      this.issuer = issuer;
      return this;
    }

    /**
     * Sets how long the console session lasts ({@code SessionDuration}). Leave it unset for role-chained
     * credentials, which AWS refuses with one.
     *
     * @param duration whole seconds from 900 to 43200, or {@code null} (the default) for the endpoint's default
     * @return this builder
     * @throws IllegalArgumentException when out of range or not whole seconds
     */
    public Builder sessionDuration(@Nullable Duration duration) {
      if (duration != null && (duration.compareTo(MIN_SESSION) < 0 || duration.compareTo(MAX_SESSION) > 0
          || duration.getNano() != 0)) {
        throw new IllegalArgumentException("sessionDuration must be whole seconds from 900 to 43200 (15 minutes to 12"
            + " hours), got " + duration);
      }
      this.sessionDuration = duration;
      return this;
    }

    /**
     * Sets how long connecting to and hearing from the endpoint may take.
     *
     * @param timeout 1 ms to 5 minutes; default 10 s
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder requestTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "requestTimeout");
      if (timeout.toMillis() < 1 || timeout.compareTo(Duration.ofMinutes(5)) > 0) {
        throw new IllegalArgumentException("requestTimeout must be from 1 ms to 5 minutes, got " + timeout);
      }
      this.requestTimeout = timeout;
      return this;
    }

    /**
     * Uses this HTTP client instead of making one; it should not follow redirects. {@link ConsoleSignIn#close()}
     * leaves it open.
     *
     * @param client the client
     * @return this builder
     */
    public Builder httpClient(HttpClient client) {
      this.httpClient = Objects.requireNonNull(client, "httpClient");
      return this;
    }

    /**
     * Sets the clock that decides whether credentials with an expiration time have expired.
     *
     * @param clock the clock; default the system clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the sign-in.
     *
     * @return the sign-in
     */
    public ConsoleSignIn build() {
      return new ConsoleSignIn(this);
    }

    private static boolean isLoopback(String host) {
      String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
      if (h.equalsIgnoreCase("localhost")) {
        return true;
      }
      if (!h.matches("[0-9.]+|[0-9A-Fa-f:]+")) {
        return false;   // a name: never resolved here, so not trusted to be loopback
      }
      try {
        return InetAddress.getByName(h).isLoopbackAddress();
      } catch (UnknownHostException e) {
        return false;
      }
    }
  }
}
