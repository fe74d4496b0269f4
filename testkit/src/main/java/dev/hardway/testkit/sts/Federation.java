package dev.hardway.testkit.sts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardway.testkit.internal.LoopbackHttpServer.HttpCall;
import dev.hardway.testkit.internal.LoopbackHttpServer.HttpReply;
import dev.hardway.testkit.sts.StsServer.Identity;
import dev.hardway.testkit.sts.StsServer.SigninToken;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The AWS federation endpoint ({@code signin.aws.amazon.com/federation}) on the STS server's port: sign-in tokens
 * from temporary credentials, and the login redirect that redeems them.
 *
 * <p>What AWS does and this copies: only credentials from {@code AssumeRole} (or {@code GetFederationToken}, which
 * this server does not offer) may sign in; {@code SessionDuration} is 900..43200 and refused for credentials that were
 * themselves obtained with session credentials (role chaining); a token is good for 15 minutes. AWS answers these
 * refusals with 400 and a short text; so does this. Where this is stricter: a token redeems once.
 */
final class Federation {
  static final String PATH = "/federation";
  static final Duration TOKEN_LIFETIME = Duration.ofMinutes(15);
  private static final Duration KEEP_USED = Duration.ofHours(24);
  private static final int MIN_CONSOLE_SECONDS = 900;
  private static final int MAX_CONSOLE_SECONDS = 43_200;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final InstantSource clock;
  private final SecureRandom random;
  private final Function<String, @Nullable Identity> sessions;
  private final Predicate<String> isUserKey;
  private final int maxTokens;
  private final Map<String, SigninToken> tokens = new ConcurrentHashMap<>();
  private final AtomicLong issued = new AtomicLong();
  private final AtomicLong logins = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();

  Federation(InstantSource clock, SecureRandom random, Function<String, @Nullable Identity> sessions,
      Predicate<String> isUserKey, int maxTokens) {
    this.clock = clock;
    this.random = random;
    this.sessions = sessions;
    this.isUserKey = isUserKey;
    this.maxTokens = maxTokens;
  }

  long tokensIssued() {
    return issued.get();
  }

  long logins() {
    return logins.get();
  }

  long refused() {
    return refused.get();
  }

  Optional<SigninToken> lookup(String token) {
    return Optional.ofNullable(tokens.get(Objects.requireNonNull(token, "token")));
  }

  HttpReply handle(HttpCall call) {
    if (!"GET".equals(call.method()) && !"POST".equals(call.method())) {
      return refuse(405, "The federation endpoint accepts GET and POST, not " + call.method());
    }
    Map<String, String> params = new HashMap<>();
    if (!parse(call.rawQuery(), params)
        || "POST".equals(call.method()) && !parse(new String(call.body(), StandardCharsets.UTF_8), params)) {
      return refuse(400, "Malformed query string");
    }
    String action = params.get("Action");
    if ("getSigninToken".equals(action)) {
      return getSigninToken(params);
    }
    if ("login".equals(action)) {
      return login(params);
    }
    return refuse(400, "Unsupported Action " + (action == null ? "(none)" : "'" + action + "'")
        + ": expected getSigninToken or login");
  }

  private HttpReply getSigninToken(Map<String, String> params) {
    String session = params.get("Session");
    if (session == null || session.isEmpty()) {
      return refuse(400, "Invalid credentials parameter: Session is missing");
    }
    String keyId;
    String key;
    String token;
    try {
      JsonNode json = JSON.readTree(session);
      keyId = text(json, "sessionId");
      key = text(json, "sessionKey");
      token = text(json, "sessionToken");
    } catch (JsonProcessingException e) {
      return refuse(400, "Invalid credentials parameter: Session is not JSON");
    }
    if (keyId == null || key == null || token == null) {
      return refuse(400, "Invalid credentials parameter: Session needs sessionId, sessionKey and sessionToken");
    }
    Integer consoleSeconds = null;
    String duration = params.get("SessionDuration");
    if (duration != null) {
      if (!duration.matches("\\d{1,9}") || Integer.parseInt(duration) < MIN_CONSOLE_SECONDS
          || Integer.parseInt(duration) > MAX_CONSOLE_SECONDS) {
        return refuse(400, "Invalid SessionDuration: must be " + MIN_CONSOLE_SECONDS + " to " + MAX_CONSOLE_SECONDS
            + " seconds");
      }
      consoleSeconds = Integer.parseInt(duration);
    }
    if (isUserKey.test(keyId)) {
      return refuse(400, "Invalid credentials parameter: long-term access keys cannot sign in; use temporary"
          + " credentials from AssumeRole");
    }
    Identity id = sessions.apply(keyId);
    // Secret and token are compared in constant time; which of the three was wrong is not told.
    if (id == null || id.sessionToken() == null
        || !MessageDigest.isEqual(key.getBytes(StandardCharsets.UTF_8), id.secret().getBytes(StandardCharsets.UTF_8))
        || !MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8),
            Objects.requireNonNull(id.sessionToken()).getBytes(StandardCharsets.UTF_8))) {
      return refuse(400, "Invalid credentials parameter: the credentials are not valid");
    }
    Instant now = clock.instant();
    if (!now.isBefore(Objects.requireNonNull(id.expiration()))) {
      return refuse(400, "Invalid credentials parameter: the credentials have expired");
    }
    if (id.roleArn() == null) {
      return refuse(400, "Only federation tokens or assume role tokens may be used for federated login;"
          + " these credentials come from GetSessionToken");
    }
    if (consoleSeconds != null && id.chained()) {
      return refuse(400, "Invalid SessionDuration: it cannot be given with credentials obtained through role"
          + " chaining");
    }
    byte[] bytes = new byte[96];
    random.nextBytes(bytes);
    String signinToken = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    forgetOld(now);
    tokens.put(signinToken, new SigninToken(id.arn(), id.accessKeyId(),
        consoleSeconds == null ? null : Duration.ofSeconds(consoleSeconds), now.plus(TOKEN_LIFETIME), false));
    issued.incrementAndGet();
    return HttpReply.of(200, "application/json",
        ("{\"SigninToken\":\"" + signinToken + "\"}").getBytes(StandardCharsets.UTF_8));
  }

  private HttpReply login(Map<String, String> params) {
    String token = params.get("SigninToken");
    String destination = params.get("Destination");
    if (destination == null || !isWebUrl(destination)) {
      return refuse(400, "Destination must be an absolute http or https URL");
    }
    if (token == null || token.isEmpty()) {
      return refuse(400, "SigninToken is missing");
    }
    Instant now = clock.instant();
    SigninToken[] redeemed = new SigninToken[1];
    tokens.computeIfPresent(token, (k, t) -> {
      if (!t.used() && now.isBefore(t.expiration())) {
        redeemed[0] = t;
        return new SigninToken(t.principalArn(), t.accessKeyId(), t.consoleSessionDuration(), t.expiration(), true);
      }
      return t;
    });
    if (redeemed[0] == null) {
      return refuse(400, "The sign-in token is invalid, expired or already used");
    }
    logins.incrementAndGet();
    return new HttpReply(302, java.util.List.of(Map.entry("Location", destination),
        Map.entry("Content-Type", "text/plain")), new byte[0]);
  }

  private void forgetOld(Instant now) {
    if (tokens.size() < maxTokens) {
      return;
    }
    Instant cutoff = now.minus(KEEP_USED);
    tokens.values().removeIf(t -> t.expiration().isBefore(cutoff));
    if (tokens.size() >= maxTokens) {
      tokens.values().removeIf(t -> t.used() || !now.isBefore(t.expiration()));
    }
  }

  private HttpReply refuse(int status, String message) {
    refused.incrementAndGet();
    return HttpReply.of(status, "text/plain; charset=utf-8", message.getBytes(StandardCharsets.UTF_8));
  }

  private static @Nullable String text(@Nullable JsonNode json, String field) {
    JsonNode node = json == null ? null : json.get(field);
    return node != null && node.isTextual() ? node.asText() : null;
  }

  private static boolean isWebUrl(String value) {
    try {
      URI uri = new URI(value);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      return (scheme.equals("https") || scheme.equals("http")) && uri.getHost() != null;
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static boolean parse(String form, Map<String, String> into) {
    if (form.isEmpty()) {
      return true;
    }
    for (String pair : form.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      try {
        into.put(URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8),
            eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        return false;
      }
    }
    return true;
  }
}
