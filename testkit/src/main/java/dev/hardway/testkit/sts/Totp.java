package dev.hardway.testkit.sts;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** RFC 6238 time-based one-time passwords, as virtual MFA devices compute them: HMAC-SHA1, 30 s steps, 6 digits. */
final class Totp {

  static final long STEP_SECONDS = 30;

  private Totp() {}

  static String code(byte[] secret, Instant at) {
    return code(secret, Math.floorDiv(at.getEpochSecond(), STEP_SECONDS));
  }

  private static String code(byte[] secret, long step) {
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(secret, "HmacSHA1"));
      byte[] h = mac.doFinal(ByteBuffer.allocate(8).putLong(step).array());
      int offset = h[h.length - 1] & 0x0f;
      int binary = ((h[offset] & 0x7f) << 24) | ((h[offset + 1] & 0xff) << 16)
          | ((h[offset + 2] & 0xff) << 8) | (h[offset + 3] & 0xff);
      return String.format("%06d", binary % 1_000_000);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA1 is missing from this JDK", e);
    }
  }

  /** Accepts the code of the current step and of one step either side, for clock drift between device and server. */
  static boolean verify(byte[] secret, String code, Instant now) {
    long step = Math.floorDiv(now.getEpochSecond(), STEP_SECONDS);
    boolean ok = false;
    for (long s = step - 1; s <= step + 1; s++) {
      ok |= MessageDigest.isEqual(code(secret, s).getBytes(java.nio.charset.StandardCharsets.US_ASCII),
          code.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
    return ok;
  }
}
