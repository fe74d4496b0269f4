package dev.hardway.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.TestClock;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every case of the reference's attack list, refused as it says. Numbers follow that list. */
@LocalAwsTest(Service.STS)
class MetadataServerAttackTest {
  private final TestClock clock = TestClock.at(Instant.now());
  private String developer;
  private String admin;
  private String other;
  private RoleBroker broker;
  private MetadataServer imds;
  private int port;

  @BeforeEach
  void start(LocalAws aws) {
    developer = Roles.create(aws, "developer");
    admin = Roles.create(aws, "admin");
    other = Roles.create(aws, "other");
    broker = RoleBroker.builder()
        .sts(aws.sts())
        .user("alice")
        .policy(StaticRolePolicy.builder().grant("alice", developer).grant("alice", admin)
            .defaultRole("alice", developer).build())
        .build();
    imds = MetadataServer.builder().broker(broker).clock(clock).tokenCapacity(64)
        .requestTimeout(Duration.ofMillis(300)).build();
    port = imds.port();
  }

  @AfterEach
  void stop() {
    imds.close();
    broker.close();
  }

  private RawHttp.Response send(String request) throws Exception {
    return RawHttp.send(port, request);
  }

  private String token() throws Exception {
    RawHttp.Response r = send(RawHttp.putToken(port, "X-aws-ec2-metadata-token-ttl-seconds: 60"));
    assertThat(r.status()).isEqualTo(200);
    return r.body();
  }

  @Test
  void a1_peerNotLoopback_isRefusedUnlessAllowed() throws Exception {
    Optional<InetAddress> lan = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
        .flatMap(NetworkInterface::inetAddresses)
        .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress())
        .findFirst();
    assumeTrue(lan.isPresent(), "this machine has no non-loopback IPv4 address to connect from");
    String ip = lan.get().getHostAddress();
    try (MetadataServer open = MetadataServer.builder().broker(broker).bindAddress(InetAddress.getByName("0.0.0.0"))
        .build()) {
      RawHttp.Response r = sendFrom(ip, open.port());
      assertThat(r.status()).isEqualTo(403);
      assertThat(open.stats().refusedConnections()).isEqualTo(1);
    }
    try (MetadataServer allowing = MetadataServer.builder().broker(broker)
        .bindAddress(InetAddress.getByName("0.0.0.0")).allowPeer(ip).hostAlias(ip).build()) {
      assertThat(sendFrom(ip, allowing.port()).status()).isEqualTo(200);
    }
  }

  private static RawHttp.Response sendFrom(String ip, int port) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(ip, port), 2000);
      s.setSoTimeout(5000);
      s.getOutputStream().write(("GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: " + ip + ":" + port
          + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      return RawHttp.read(s.getInputStream());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"Host: evil.com", "Host: 169.254.169.254.evil.com", "Host: 127.0.0.1",
      "Host: 127.0.0.1:1", "Host: evil.com:PORT"})
  void a2_foreignHost_isForbidden(String host) throws Exception {
    String h = host.replace("PORT", Integer.toString(port));
    RawHttp.Response r = send("GET /latest/meta-data/instance-id HTTP/1.1\r\n" + h + "\r\n\r\n");
    assertThat(r.status()).isEqualTo(403);
  }

  @Test
  void a2_missingOrDuplicatedHost_isForbidden() throws Exception {
    assertThat(send("GET /latest/meta-data/instance-id HTTP/1.1\r\n\r\n").status()).isEqualTo(403);
    assertThat(send("GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nHost: evil.com"
        + "\r\n\r\n").status()).isEqualTo(403);
    assertThat(send(RawHttp.get(port, "/latest/meta-data/instance-id")).body()).isEqualTo("i-0hardway00000000");
  }

  @ParameterizedTest
  @ValueSource(strings = {"Origin: http://evil.com", "Referer: http://evil.com/page",
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0", "Sec-Fetch-Mode: no-cors"})
  void a3_browserSignals_areForbiddenWithoutCorsHeaders(String header) throws Exception {
    RawHttp.Response r = send(RawHttp.get(port, "/latest/meta-data/iam/security-credentials/", header));
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.head().toLowerCase()).doesNotContain("access-control");
  }

  @Test
  void a3_options_isForbidden() throws Exception {
    RawHttp.Response r = send("OPTIONS /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1:" + port
        + "\r\nOrigin: http://evil.com\r\nAccess-Control-Request-Method: PUT\r\n\r\n");
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.head().toLowerCase()).doesNotContain("access-control");
  }

  @Test
  void a4_forwardedTokenRequest_is403NotA400() throws Exception {
    assertThat(send(RawHttp.putToken(port, "X-aws-ec2-metadata-token-ttl-seconds: 60",
        "X-Forwarded-For: 10.0.0.1")).status()).isEqualTo(403);
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "-1", "21601", "abc", "", "1.5", "99999999999"})
  void a4_badTtl_is400(String ttl) throws Exception {
    RawHttp.Response r = send(RawHttp.putToken(port, "X-aws-ec2-metadata-token-ttl-seconds: " + ttl));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body()).contains("got \"" + ttl + "\"");
  }

  @Test
  void a4_missingOrDuplicatedTtl_is400_andGetOnTheTokenPath_is405() throws Exception {
    assertThat(send(RawHttp.putToken(port)).status()).isEqualTo(400);
    assertThat(send(RawHttp.putToken(port, "X-aws-ec2-metadata-token-ttl-seconds: 60",
        "X-aws-ec2-metadata-token-ttl-seconds: 60")).status()).isEqualTo(400);
    assertThat(send(RawHttp.get(port, "/latest/api/token")).status()).isEqualTo(405);
    assertThat(send(RawHttp.putToken(port, "X-aws-ec2-metadata-token-ttl-seconds: 21600")).status())
        .isEqualTo(200);
  }

  @Test
  void a5_forgedExpiredHugeOrQueryStringToken_is401() throws Exception {
    String path = "/latest/meta-data/iam/security-credentials/";
    assertThat(send(RawHttp.get(port, path, "X-aws-ec2-metadata-token: " + "A".repeat(43))).status())
        .isEqualTo(401);
    assertThat(send(RawHttp.get(port, path, "X-aws-ec2-metadata-token: forged")).status()).isEqualTo(401);
    String token = token();
    assertThat(send(RawHttp.get(port, path, "X-aws-ec2-metadata-token: " + token)).status()).isEqualTo(200);
    assertThat(send(RawHttp.get(port, path + "?X-aws-ec2-metadata-token=" + token)).status()).isEqualTo(401);
    clock.advance(Duration.ofSeconds(60));
    assertThat(send(RawHttp.get(port, path, "X-aws-ec2-metadata-token: " + token)).status()).isEqualTo(401);
    RawHttp.Response huge = send(RawHttp.get(port, path, "X-aws-ec2-metadata-token: " + "A".repeat(1 << 20)));
    assertThat(huge.status()).isEqualTo(401);
  }

  @Test
  void a5_v2Only_refusesTokenlessReads() throws Exception {
    try (MetadataServer strict = MetadataServer.builder().broker(broker).v2Only(true).build()) {
      int p = strict.port();
      assertThat(RawHttp.send(p, RawHttp.get(p, "/latest/meta-data/instance-id")).status()).isEqualTo(401);
      String token = RawHttp.send(p, RawHttp.putToken(p, "X-aws-ec2-metadata-token-ttl-seconds: 5")).body();
      assertThat(RawHttp.send(p, RawHttp.get(p, "/latest/meta-data/instance-id",
          "X-aws-ec2-metadata-token: " + token)).status()).isEqualTo(200);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"/latest/meta-data/../meta-data/iam/security-credentials/DEV",
      "/latest/meta-data/iam/security-credentials/%2e%2e/DEV", "/latest/meta-data/iam//security-credentials/DEV",
      "/latest/meta-data/iam/security-credentials/DEV;x", "/latest/meta-data/iam/security-credentials/..",
      "/latest/meta-data/iam/security-credentials/nobody", "/latest/meta-data/iam/security-credentials/ADMIN",
      "/latest/meta-data/iam/security-credentials/OTHER", "/latest/meta-data/iam/security-credentials/DEV/",
      "/latest/meta-data/iam/security-credentials/./DEV", "/latest/meta-data\\iam"})
  void a6_traversalOddEncodingsAndOtherRoles_are404(String path) throws Exception {
    String p = path.replace("DEV", Roles.name(developer)).replace("ADMIN", Roles.name(admin))
        .replace("OTHER", Roles.name(other));
    RawHttp.Response r = send(RawHttp.get(port, p));
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.body()).doesNotContain("SecretAccessKey");
  }

  @Test
  void a6_theCurrentRoleIsServedUnderItsOwnNameOnly() throws Exception {
    RawHttp.Response list = send(RawHttp.get(port, "/latest/meta-data/iam/security-credentials"));
    assertThat(list.body()).isEqualTo(Roles.name(developer));
    RawHttp.Response c = send(RawHttp.get(port, "/latest/meta-data/iam/security-credentials/" + list.body()));
    assertThat(c.status()).isEqualTo(200);
    assertThat(c.body()).contains("\"Code\" : \"Success\"", "\"Type\" : \"AWS-HMAC\"", "\"AccessKeyId\" : \"ASIA");
  }

  @Test
  void a7_roleNotGranted_getsTheExactDenial_andTheCurrentRoleStays() {
    broker.currentCredentials();
    assertThatThrownBy(() -> broker.use(other))
        .isInstanceOf(RoleDeniedException.class)
        .hasMessage("User alice is not authorized to assume role " + other + "!");
    assertThat(broker.currentRole()).isEqualTo(developer);
  }

  @Test
  void a10_tenThousandTokenRequests_keepTheStoreBounded() throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      OutputStream out = s.getOutputStream();
      byte[] put = RawHttp.putToken(port, "X-aws-ec2-metadata-token-ttl-seconds: 21600")
          .getBytes(StandardCharsets.ISO_8859_1);
      for (int i = 0; i < 10_000; i++) {
        out.write(put);
        out.flush();
        assertThat(RawHttp.read(s.getInputStream()).status()).isEqualTo(200);
      }
    }
    assertThat(imds.tokensHeld()).isLessThanOrEqualTo(64);
    assertThat(imds.stats().tokensIssued()).isEqualTo(10_000);
    assertThat(imds.stats().tokensEvicted()).isEqualTo(10_000 - 64);
  }

  @Test
  void a10_slowClient_isCutOffAfterTheRequestTimeout() throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET /latest/meta-data/ HTTP/1.1\r\nHo".getBytes(StandardCharsets.ISO_8859_1));
      RawHttp.Response r = RawHttp.read(s.getInputStream());
      assertThat(r.status()).isEqualTo(408);
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
  }

  @Test
  void a10_bodyOverOneMebibyte_is413() throws Exception {
    RawHttp.Response r = send("PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1:" + port
        + "\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\nContent-Length: 1048577\r\n\r\n");
    assertThat(r.status()).isEqualTo(413);
    assertThat(send("PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1:" + port
        + "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").status()).isEqualTo(400);
    assertThat(imds.stats().badRequests()).as("both refusals counted").isEqualTo(2);
  }

  @Test
  void a12_errorBodiesAndToStringsHoldNoSecret() throws Exception {
    RoleCredentials c = broker.currentCredentials();
    assertThat(c.toString()).doesNotContain(c.secretAccessKey()).doesNotContain(c.sessionToken());
    assertThat(broker.status().toString()).doesNotContain(c.secretAccessKey()).doesNotContain(c.sessionToken());
    for (String path : new String[] {"/latest/meta-data/iam/security-credentials/nobody", "/nope", "/latest/x"}) {
      RawHttp.Response r = send(RawHttp.get(port, path));
      assertThat(r.body()).doesNotContain(c.secretAccessKey()).doesNotContain(c.sessionToken());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"GET /admin", "POST /stop", "POST /shutdown", "DELETE /", "POST /use", "PUT /role",
      "GET /debug", "POST /latest/meta-data/iam/security-credentials/x"})
  void a13_thereIsNoAdminOrStopEndpoint(String request) throws Exception {
    String[] parts = request.split(" ");
    RawHttp.Response r = send(parts[0] + " " + parts[1] + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
        + "\r\nContent-Length: 0\r\n\r\n");
    assertThat(r.status()).isIn(404, 405);
    assertThat(send(RawHttp.get(port, "/latest/meta-data/instance-id")).status()).isEqualTo(200);
  }
}
