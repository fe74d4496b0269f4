package dev.hardway.testkit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The verifier against AWS's published SigV4 test suite case "get-vanilla", an implementation independent of the SDK
 * (the SDK's own signing is exercised by every STS test).
 */
class SigV4Test {

  private static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  private static final String AUTHORIZATION = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
      + "aws4_request, SignedHeaders=host;x-amz-date, "
      + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
  private static final Map<String, List<String>> HEADERS = Map.of(
      "host", List.of("example.amazonaws.com"), "x-amz-date", List.of("20150830T123600Z"));
  private static final Instant SIGNED_AT = Instant.parse("2015-08-30T12:36:00Z");

  @Test
  void verify_acceptsThePublishedSignature() throws SigV4.SignatureException {
    SigV4.Authorization auth = SigV4.parse(AUTHORIZATION);

    assertThat(auth.accessKeyId()).isEqualTo("AKIDEXAMPLE");
    assertThat(auth.scope()).isEqualTo("20150830/us-east-1/service/aws4_request");
    assertThatCode(() -> SigV4.verify(auth, SECRET, "GET", "/", "", HEADERS, new byte[0], SIGNED_AT, 900, false))
        .doesNotThrowAnyException();
  }

  @Test
  void verify_refusesAnotherSecret_andAnAlteredRequest() throws SigV4.SignatureException {
    SigV4.Authorization auth = SigV4.parse(AUTHORIZATION);

    assertThatThrownBy(() -> SigV4.verify(auth, "other", "GET", "/", "", HEADERS, new byte[0], SIGNED_AT, 900, false))
        .isInstanceOfSatisfying(SigV4.SignatureException.class,
            e -> assertThat(e.reason()).isEqualTo(SigV4.SignatureException.Reason.MISMATCH));
    assertThatThrownBy(() -> SigV4.verify(auth, SECRET, "GET", "/", "a=b", HEADERS, new byte[0], SIGNED_AT, 900,
        false)).isInstanceOf(SigV4.SignatureException.class);
  }

  @Test
  void verify_refusesARequestOutsideTheTimeWindow_namingBothTimes() throws SigV4.SignatureException {
    SigV4.Authorization auth = SigV4.parse(AUTHORIZATION);

    assertThatThrownBy(() -> SigV4.verify(auth, SECRET, "GET", "/", "", HEADERS, new byte[0],
        SIGNED_AT.plusSeconds(901), 900, false))
        .isInstanceOfSatisfying(SigV4.SignatureException.class, e -> {
          assertThat(e.reason()).isEqualTo(SigV4.SignatureException.Reason.EXPIRED);
          assertThat(e.getMessage()).contains("20150830T123600Z").contains("20150830T125101Z");
        });
  }

  @Test
  void parse_refusesMalformedHeaders_quotingThem() {
    assertThatThrownBy(() -> SigV4.parse(null))
        .isInstanceOfSatisfying(SigV4.SignatureException.class,
            e -> assertThat(e.reason()).isEqualTo(SigV4.SignatureException.Reason.MISSING));
    assertThatThrownBy(() -> SigV4.parse("AWS4-HMAC-SHA256 Credential=AKID/bad, SignedHeaders=host, Signature=00"))
        .isInstanceOfSatisfying(SigV4.SignatureException.class,
            e -> assertThat(e.getMessage()).contains("'AKID/bad'"));
    assertThatThrownBy(() -> SigV4.parse("Basic dXNlcjpwYXNz"))
        .hasMessageContaining("Basic dXNlcjpwYXNz");
  }
}
