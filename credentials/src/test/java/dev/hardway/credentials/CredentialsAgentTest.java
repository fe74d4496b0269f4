package dev.hardway.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's owner-only control socket and the command line that talks to it. */
@LocalAwsTest(Service.STS)
class CredentialsAgentTest {
  @TempDir Path tmp;
  private LocalAws aws;
  private String developer;
  private String admin;
  private String other;
  private RoleBroker broker;
  private MetadataServer imds;
  private Path socket;

  @BeforeEach
  void start(LocalAws aws) {
    this.aws = aws;
    developer = Roles.create(aws, "developer");
    admin = Roles.create(aws, "admin");
    other = Roles.create(aws, "other");
    broker = RoleBroker.builder().sts(aws.sts()).user("dora")
        .policy(StaticRolePolicy.builder().grant("dora", developer).grant("dora", admin)
            .defaultRole("dora", developer).build())
        .build();
    imds = MetadataServer.builder().broker(broker).build();
    socket = tmp.resolve("run").resolve("agent.sock");
  }

  @AfterEach
  void stop() {
    imds.close();
    broker.close();
  }

  private CredentialsAgent agent() {
    return CredentialsAgent.builder().broker(broker).metadataServer(imds).controlSocket(socket).build();
  }

  private record Run(int status, String out, String err) {}

  private Run cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = AgentMain.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void controlSocket_isTheOwnersAlone() throws Exception {
    try (CredentialsAgent agent = agent()) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())))
          .isEqualTo("rwx------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(agent.controlSocket())))
          .isEqualTo("rw-------");
    }
    assertThat(socket).doesNotExist();
  }

  @Test
  void useMeStatus_throughTheCommandLine() {
    try (CredentialsAgent agent = agent()) {
      assertThat(agent.controlSocket()).isEqualTo(socket.toAbsolutePath());
      Run use = cli("use", admin, "--socket", socket.toString());
      assertThat(use.status()).as(use.err()).isZero();
      assertThat(use.out()).startsWith("now using " + admin);
      assertThat(broker.currentRole()).isEqualTo(admin);

      Run status = cli("status", "--socket", socket.toString());
      assertThat(status.out()).contains("user:              dora", "current role:      " + admin,
          imds.endpoint().toString());

      Run denied = cli("use", other, "--socket", socket.toString());
      assertThat(denied.status()).isEqualTo(1);
      assertThat(denied.err().strip()).isEqualTo("User dora is not authorized to assume role " + other + "!");
      assertThat(broker.currentRole()).isEqualTo(admin);

      Run me = cli("me", "--socket", socket.toString());
      assertThat(me.out()).startsWith("now using " + developer);
    }
  }

  @Test
  void console_printsASignInUrlForTheCurrentRole_whichSignsIn() throws Exception {
    try (ConsoleSignIn console = ConsoleSignIn.builder()
            .federationEndpoint(aws.endpoint(Service.STS).resolve("/federation")).build();
        CredentialsAgent agent = CredentialsAgent.builder().broker(broker).metadataServer(imds)
            .consoleSignIn(console).controlSocket(socket).build()) {
      Run r = cli("console", "--socket", agent.controlSocket().toString());
      assertThat(r.status()).as(r.err()).isZero();
      java.net.URI url = java.net.URI.create(r.out().strip());
      String token = java.net.URLDecoder.decode(url.getRawQuery().replaceAll(".*SigninToken=([^&]*).*", "$1"),
          StandardCharsets.UTF_8);
      assertThat(aws.stsServer().signinTokenPrincipal(token))
          .contains("arn:aws:sts::000000000000:assumed-role/" + Roles.name(developer) + "/dora");
    }
  }

  @Test
  void anotherUser_isRefused() {
    try (CredentialsAgent agent = CredentialsAgent.builder().broker(broker).metadataServer(imds)
        .controlSocket(socket).controlUser("somebody-else").build()) {
      ControlReply r = ControlClient.call(socket, List.of("use", admin));
      assertThat(r.ok()).isFalse();
      assertThat(r.text()).contains("answers only somebody-else, not " + System.getProperty("user.name"));
      assertThat(agent.refusedPeers()).isEqualTo(1);
      assertThat(broker.status().currentRoleArn()).isNull();
    }
  }

  @Test
  void aDirectoryOthersCanEnter_isRefused_aLiveAgentIsNotDisplaced_aStaleSocketIsReplaced() throws Exception {
    Files.createDirectories(socket.getParent());
    Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwxr-x---"));
    assertThatThrownBy(this::agent).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("has mode rwxr-x---").hasMessageContaining("chmod 700");
    Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwx------"));
    try (CredentialsAgent first = agent()) {
      assertThat(first.refusedPeers()).isZero();
      assertThatThrownBy(this::agent).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("an agent already listens");
    }
    Files.createFile(socket); // what a killed agent leaves
    try (CredentialsAgent second = agent()) {
      assertThat(ControlClient.call(second.controlSocket(), List.of("status")).ok()).isTrue();
    }
  }

  @Test
  void exec_runsAProcessHoldingItsOwnRole() throws Exception {
    try (CredentialsAgent agent = agent()) {
      assertThat(agent.controlSocket()).exists();
      Path out = tmp.resolve("caller.txt");
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Run r = cli("exec", "--socket", socket.toString(), "--role", admin, "--", "sh", "-c",
          "exec \"$0\" -cp \"$1\" " + CallerIdentityMain.class.getName() + " \"$2\" > \"$3\"",
          java, System.getProperty("java.class.path"), aws.endpoint(Service.STS).toString(), out.toString());
      assertThat(r.status()).as(r.err()).isZero();
      assertThat(Files.readString(out).strip())
          .isEqualTo("arn:aws:sts::000000000000:assumed-role/" + Roles.name(admin) + "/dora");
      assertThat(broker.currentRole()).isEqualTo(developer);
      assertThat(imds.stats().credentialsServed()).isEqualTo(1);
    }
  }

  @Test
  void commandLine_badUsageAndNoAgent_sayWhat() {
    Run none = cli("status", "--socket", tmp.resolve("nobody.sock").toString());
    assertThat(none.status()).isEqualTo(3);
    assertThat(none.err()).contains("no Hardway credentials agent answers on");
    assertThat(cli("use").status()).isEqualTo(2);
    assertThat(cli("use", "a", "--mfa", "12").err()).contains("--mfa must be a 6-digit code, got \"12\"");
    assertThat(cli("frobnicate").err()).contains("unknown command \"frobnicate\"");
    assertThat(cli("--help").out()).contains("exec --role ROLE -- COMMAND");
  }

  @Test
  void aliasSetup_printsTheCommandsForEachSystem() {
    assertThat(AgentMain.aliasSetup(16925, "Linux"))
        .contains("sudo ip addr add 169.254.169.254/32 dev lo")
        .contains("--dport 80 -j REDIRECT --to-ports 16925");
    assertThat(AgentMain.aliasSetup(16925, "Mac OS X"))
        .contains("sudo ifconfig lo0 alias 169.254.169.254")
        .contains("port 80 -> 127.0.0.1 port 16925");
  }
}
