package dev.hardway.credentials;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.SystemPropertyCredentialsProvider;
import software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.StsClientBuilder;

/**
 * The {@code hardway-credentials} command: runs the workstation agent, and steers a running one.
 *
 * <pre>
 * hardway-credentials agent [--config FILE] [--port N] [--socket PATH]
 * hardway-credentials use ROLE [--mfa CODE]
 * hardway-credentials me | status
 * hardway-credentials console [--destination URL]
 * hardway-credentials exec --role ROLE -- COMMAND [ARG...]
 * hardway-credentials alias-setup [--port N]
 * </pre>
 */
public final class AgentMain {
  /** The agent's default metadata port: 169.254 run together. */
  public static final int DEFAULT_PORT = 16925;
  private static final String LINK_LOCAL = "169.254.169.254";

  private AgentMain() {}

  /**
   * Runs a command and exits with its status: 0 done, 1 refused or failed, 2 bad usage, 3 no agent.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
      out.print(usage());
      return args.length == 0 ? 2 : 0;
    }
    try {
      Options o = Options.parse(Arrays.copyOfRange(args, 1, args.length));
      return switch (args[0]) {
        case "agent" -> agent(o, out);
        case "use" -> o.positional.size() == 1
            ? control(o, out, err, o.mfa == null ? List.of("use", o.positional.get(0))
                : List.of("use", o.positional.get(0), o.mfa))
            : bad(err, "use needs exactly one role, got " + o.positional);
        case "me", "status" -> o.positional.isEmpty() ? control(o, out, err, List.of(args[0]))
            : bad(err, args[0] + " takes no arguments, got " + o.positional);
        case "console" -> control(o, out, err, o.destination == null ? List.of("console")
            : List.of("console", o.destination));
        case "exec" -> exec(o, out, err);
        case "alias-setup" -> {
          out.print(aliasSetup(o.port == null ? DEFAULT_PORT : o.port, System.getProperty("os.name", "")));
          yield 0;
        }
        default -> bad(err, "unknown command " + Printable.quote(args[0]));
      };
    } catch (IllegalArgumentException | IllegalStateException e) {
      return bad(err, e.getMessage());
    }
  }

  private static int bad(PrintStream err, String message) {
    err.println("hardway-credentials: " + message);
    err.println("run hardway-credentials --help for the commands");
    return 2;
  }

  static String usage() {
    return """
        usage: hardway-credentials <command> [options]

          agent [--config FILE] [--port N] [--socket PATH]
                                 run the agent: the metadata imitator on 127.0.0.1 and the control socket
          use ROLE [--mfa CODE]  switch the role served (an ARN, alias/role, or a role in the default account)
          me                     switch back to your default role
          status                 show the current role, expiries, refreshes and failures
          console [--destination URL]
                                 print an AWS console sign-in URL for the current role
          exec --role ROLE -- COMMAND [ARG...]
                                 run a command holding ROLE through the container endpoint, while other
                                 processes keep theirs
          alias-setup [--port N] print the commands that make 169.254.169.254 reach the agent (needs root)

        Every command but agent and alias-setup talks to a running agent over its control socket
        (--socket PATH; default $XDG_RUNTIME_DIR/hardway/credentials.sock or ~/.hardway/credentials.sock).
        """;
  }

  static String aliasSetup(int port, String osName) {
    if (osName.toLowerCase(java.util.Locale.ROOT).contains("mac")) {
      return "# macOS: give lo0 the link-local address, and forward its port 80 to the agent (until reboot).\n"
          + "sudo ifconfig lo0 alias " + LINK_LOCAL + "\n"
          + "echo \"rdr pass on lo0 inet proto tcp from any to " + LINK_LOCAL + " port 80 -> 127.0.0.1 port "
          + port + "\" | sudo pfctl -ef -\n"
          + "# then run the agent with link-local=true in its configuration.\n";
    }
    return "# Linux: give lo the link-local address, and redirect its port 80 to the agent (until reboot).\n"
        + "sudo ip addr add " + LINK_LOCAL + "/32 dev lo\n"
        + "sudo iptables -t nat -A OUTPUT -p tcp -d " + LINK_LOCAL + " --dport 80 -j REDIRECT --to-ports " + port
        + "\n"
        + "# then run the agent with link-local=true in its configuration.\n"
        + "# undo: sudo iptables -t nat -D OUTPUT -p tcp -d " + LINK_LOCAL + " --dport 80 -j REDIRECT --to-ports "
        + port + "; sudo ip addr del " + LINK_LOCAL + "/32 dev lo\n";
  }

  private static int control(Options o, PrintStream out, PrintStream err, List<String> command) {
    ControlReply r;
    try {
      r = ControlClient.call(o.socket, command);
    } catch (UncheckedIOException e) {
      err.println("hardway-credentials: " + e.getMessage());
      return 3;
    }
    (r.ok() ? out : err).println(r.text());
    return r.ok() ? 0 : 1;
  }

  private static int exec(Options o, PrintStream out, PrintStream err) {
    if (o.role == null || o.command.isEmpty()) {
      return bad(err, "exec needs --role ROLE -- COMMAND [ARG...]");
    }
    ControlReply session;
    try {
      session = ControlClient.call(o.socket, List.of("session", o.role));
    } catch (UncheckedIOException e) {
      err.println("hardway-credentials: " + e.getMessage());
      return 3;
    }
    if (!session.ok()) {
      err.println(session.text());
      return 1;
    }
    ProcessBuilder pb = new ProcessBuilder(o.command).inheritIO();
    String token = null;
    for (String line : session.text().split("\n")) {
      int eq = line.indexOf('=');
      String key = line.substring(0, eq);
      String value = line.substring(eq + 1);
      if (key.startsWith("AWS_")) {
        pb.environment().put(key, value);
      }
      if (key.equals("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
        token = value;
      }
    }
    // Without these the child's SDK would prefer other credentials over the session's.
    for (String k : List.of("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE")) {
      pb.environment().remove(k);
    }
    try {
      return pb.start().waitFor();
    } catch (IOException e) {
      err.println("hardway-credentials: cannot run " + o.command.get(0) + ": " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    } finally {
      if (token != null) {
        ControlClient.call(o.socket, List.of("end-session", token));
      }
    }
  }

  private static int agent(Options o, PrintStream out) {
    Properties p = o.config == null ? new Properties() : load(o.config);
    AgentConfig c = AgentConfig.from(p, o);
    RolePolicy policy = c.policy();
    try (HardwayCredentialsProvider own = c.brokerCredentials();
        StsClient sts = c.stsClient(own);
        RoleBroker broker = c.broker(sts, policy);
        MetadataServer imds = c.metadataServer(broker);
        ConsoleSignIn console = c.consoleSignIn();
        CredentialsAgent agent = CredentialsAgent.builder().broker(broker).metadataServer(imds)
            .consoleSignIn(console).controlSocket(o.socket).build()) {
      out.println("Hardway credentials agent for " + broker.user());
      out.println("  metadata: " + imds.endpoint() + (c.v2Only ? " (IMDSv2 only)" : " (IMDSv1 and v2)"));
      out.println("  control:  " + agent.controlSocket());
      out.println("Point SDKs and the AWS CLI at it:");
      out.println("  export AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds.endpoint());
      out.println("To reach it at " + LINK_LOCAL + " as on EC2 (opt-in, needs root): hardway-credentials "
          + "alias-setup");
      out.flush();
      CountDownLatch stop = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "hardway-agent-stop"));
      stop.await();
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    } finally {
      if (policy instanceof LdapRolePolicy ldap) {
        ldap.close();
      }
    }
  }

  static Properties load(Path file) {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the configuration " + file + ": " + e.getMessage(), e);
    }
    return p;
  }

  /** Reads a secret from a file that only its owner can read. */
  static char[] secretFile(Path file, String option) {
    try {
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
      if (mode.stream().anyMatch(m -> m.name().startsWith("GROUP") || m.name().startsWith("OTHERS"))) {
        throw new IllegalArgumentException(option + " " + file + " is readable by others; chmod 600 it");
      }
      String s = Files.readString(file, StandardCharsets.UTF_8).strip();
      return s.toCharArray();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + option + " " + file + ": " + e.getMessage(), e);
    }
  }

  /** The command line's options. */
  static final class Options {
    @Nullable Path config;
    @Nullable Integer port;
    Path socket = CredentialsAgent.defaultControlSocket();
    @Nullable String mfa;
    @Nullable String destination;
    @Nullable String role;
    final List<String> positional = new ArrayList<>();
    final List<String> command = new ArrayList<>();

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--")) {
          o.command.addAll(Arrays.asList(args).subList(i + 1, args.length));
          break;
        }
        if (!a.startsWith("--")) {
          o.positional.add(a);
          continue;
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(a + " needs a value");
        }
        String v = args[++i];
        switch (a) {
          case "--config" -> o.config = Path.of(v);
          case "--port" -> o.port = port(v);
          case "--socket" -> o.socket = Path.of(v);
          case "--mfa" -> {
            if (!v.matches("\\d{6}")) {
              throw new IllegalArgumentException("--mfa must be a 6-digit code, got " + Printable.quote(v));
            }
            o.mfa = v;
          }
          case "--destination" -> o.destination = URI.create(v).toString();
          case "--role" -> o.role = v;
          default -> throw new IllegalArgumentException("unknown option " + Printable.quote(a));
        }
      }
      return o;
    }

    static int port(String v) {
      if (!v.matches("\\d{1,5}") || Integer.parseInt(v) > 65535) {
        throw new IllegalArgumentException("port must be 0 to 65535, got " + Printable.quote(v));
      }
      return Integer.parseInt(v);
    }
  }

  /** The agent's configuration file, checked key by key. */
  static final class AgentConfig {
    final Properties p;
    final Options o;
    boolean v2Only;

    private AgentConfig(Properties p, Options o) {
      this.p = p;
      this.o = o;
      for (String key : p.stringPropertyNames()) {
        if (!KEYS.contains(key) && !key.startsWith("alias.") && !key.startsWith("grant.")) {
          throw new IllegalArgumentException("unknown configuration key " + Printable.quote(key) + "; known keys: "
              + KEYS + ", alias.<name>, grant.<n>");
        }
      }
      this.v2Only = bool("v2-only", false);
    }

    static final Set<String> KEYS = Set.of("user", "port", "v2-only", "link-local", "sts.region", "sts.endpoint",
        "sts.profile", "mfa-serial", "default-account", "policy", "default-role", "ldap.url", "ldap.start-tls",
        "ldap.service-dn", "ldap.service-password-file", "ldap.base-dn", "ldap.user-base-dn", "ldap.group-base-dn",
        "ldap.user-attribute", "ldap.role-attribute", "ldap.duration-attribute", "ldap.default-role-attribute",
        "console.federation-endpoint", "console.destination", "console.issuer", "console.session-duration");

    static AgentConfig from(Properties p, Options o) {
      return new AgentConfig(p, o);
    }

    private String get(String key, String def) {
      return p.getProperty(key, def).strip();
    }

    private @Nullable String get(String key) {
      String v = p.getProperty(key);
      return v == null ? null : v.strip();
    }

    private boolean bool(String key, boolean def) {
      String v = get(key, Boolean.toString(def));
      if (!v.equals("true") && !v.equals("false")) {
        throw new IllegalArgumentException(key + " must be true or false, got " + Printable.quote(v));
      }
      return Boolean.parseBoolean(v);
    }

    String user() {
      return get("user", System.getProperty("user.name"));
    }

    /**
     * The broker's own credentials: a profile, or system properties, environment, web identity and the default
     * profile. Never the metadata or container sources: with the agent's endpoint in its own environment they would
     * point back at the agent itself.
     */
    HardwayCredentialsProvider brokerCredentials() {
      String profile = get("sts.profile");
      HardwayCredentialsProvider.Builder b = HardwayCredentialsProvider.builder();
      if (profile != null) {
        return b.source("profile " + profile, ProfileCredentialsProvider.create(profile)).build();
      }
      return b.source("system properties", SystemPropertyCredentialsProvider.create())
          .source("environment", EnvironmentVariableCredentialsProvider.create())
          .source("web identity", WebIdentityTokenFileCredentialsProvider.create())
          .source("profile", ProfileCredentialsProvider.create())
          .build();
    }

    StsClient stsClient(HardwayCredentialsProvider credentials) {
      StsClientBuilder b = StsClient.builder().region(Region.of(get("sts.region", "us-east-1")))
          .credentialsProvider(credentials);
      String endpoint = get("sts.endpoint");
      if (endpoint != null) {
        b.endpointOverride(URI.create(endpoint));
      }
      return b.build();
    }

    RolePolicy policy() {
      String kind = get("policy", "static");
      switch (kind) {
        case "static" -> {
          StaticRolePolicy.Builder b = StaticRolePolicy.builder();
          String user = user();
          for (Map.Entry<Object, Object> e : p.entrySet()) {
            String key = (String) e.getKey();
            if (key.startsWith("grant.")) {
              String[] v = ((String) e.getValue()).strip().split(",");
              b.grant(user, v[0].strip(), v.length > 1 ? Duration.ofSeconds(seconds(key, v[1]))
                  : RoleGrant.DEFAULT_SESSION_DURATION);
            }
          }
          String def = get("default-role");
          if (def != null) {
            b.defaultRole(user, def);
          }
          return b.build();
        }
        case "ldap" -> {
          LdapRolePolicy.Builder b = LdapRolePolicy.builder().url(URI.create(required("ldap.url")));
          b.startTls(bool("ldap.start-tls", false));
          String dn = get("ldap.service-dn");
          if (dn != null) {
            b.serviceAccount(dn, secretFile(Path.of(required("ldap.service-password-file")),
                "ldap.service-password-file"));
          }
          String base = get("ldap.base-dn");
          if (base != null) {
            b.baseDn(base);
          }
          String ub = get("ldap.user-base-dn");
          if (ub != null) {
            b.userBaseDn(ub);
          }
          String gb = get("ldap.group-base-dn");
          if (gb != null) {
            b.groupBaseDn(gb);
          }
          String ua = get("ldap.user-attribute");
          if (ua != null) {
            b.userAttribute(ua);
          }
          String ra = get("ldap.role-attribute");
          if (ra != null) {
            b.roleAttribute(ra);
          }
          b.sessionDurationAttribute(get("ldap.duration-attribute"));
          String da = get("ldap.default-role-attribute");
          if (da != null) {
            b.defaultRoleAttribute(da);
          }
          return b.build();
        }
        default -> throw new IllegalArgumentException("policy must be static or ldap, got " + Printable.quote(kind));
      }
    }

    private static long seconds(String key, String value) {
      String v = value.strip();
      if (!v.matches("\\d{1,6}")) {
        throw new IllegalArgumentException(key + " must give a duration in seconds, got " + Printable.quote(v));
      }
      return Long.parseLong(v);
    }

    private String required(String key) {
      String v = get(key);
      if (v == null || v.isEmpty()) {
        throw new IllegalArgumentException("the configuration needs " + key);
      }
      return v;
    }

    RoleBroker broker(StsClient sts, RolePolicy policy) {
      RoleBroker.Builder b = RoleBroker.builder().sts(sts).user(user()).policy(policy);
      for (String key : p.stringPropertyNames()) {
        if (key.startsWith("alias.")) {
          b.accountAlias(key.substring(6), get(key, ""));
        }
      }
      String account = get("default-account");
      if (account != null) {
        b.defaultAccount(account);
      }
      String mfa = get("mfa-serial");
      if (mfa != null) {
        b.mfaSerial(mfa);
      }
      return b.build();
    }

    MetadataServer metadataServer(RoleBroker broker) {
      int port = o.port != null ? o.port : Options.port(get("port", Integer.toString(DEFAULT_PORT)));
      MetadataServer.Builder b = MetadataServer.builder().broker(broker).port(port).v2Only(v2Only);
      if (bool("link-local", false)) {
        // With the alias and redirect of alias-setup, requests arrive from 169.254.169.254 on the loopback
        // interface, naming it in Host.
        b.hostAlias(LINK_LOCAL).allowPeer(LINK_LOCAL);
      }
      try {
        b.bindAddress(InetAddress.getByName("127.0.0.1"));
      } catch (java.net.UnknownHostException e) {
        throw new IllegalStateException(e);
      }
      return b.build();
    }

    ConsoleSignIn consoleSignIn() {
      ConsoleSignIn.Builder b = ConsoleSignIn.builder();
      String fed = get("console.federation-endpoint");
      if (fed != null) {
        b.federationEndpoint(URI.create(fed));
      }
      String dest = get("console.destination");
      if (dest != null) {
        b.destination(URI.create(dest));
      }
      b.issuer(get("console.issuer"));
      String dur = get("console.session-duration");
      if (dur != null) {
        b.sessionDuration(Duration.ofSeconds(seconds("console.session-duration", dur)));
      }
      return b.build();
    }
  }
}
