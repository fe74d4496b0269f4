package dev.hardway.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.util.ssl.KeyStoreKeyManager;
import com.unboundid.util.ssl.SSLUtil;
import com.unboundid.util.ssl.cert.ManageCertificates;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LdapRolePolicy} over {@code ldaps://} and StartTLS, with the host name verified: a directory whose
 * certificate names 127.0.0.1 is used, one whose certificate names another host is refused even though the client
 * trusts that certificate. Directories of its own (UnboundID in-memory, TLS listeners), since the test kit's speaks
 * plain LDAP.
 */
class LdapRolePolicyTlsTest {

  private static final String BASE = "dc=tls,dc=test";
  private static final String ADMIN = "cn=admin," + BASE;
  private static final String ADMIN_PASSWORD = "tls-admin";
  private static final String ROLE = "arn:aws:iam::123456789012:role/tls";

  @TempDir
  static Path dir;

  private static Directory rightName;
  private static Directory wrongName;

  private record Directory(InMemoryDirectoryServer server, SSLContext trust) {
    URI ldaps() {
      return URI.create("ldaps://127.0.0.1:" + server.getListenPort("ldaps"));
    }

    URI plain() {
      return URI.create("ldap://127.0.0.1:" + server.getListenPort("ldap"));
    }
  }

  @BeforeAll
  static void start() throws Exception {
    rightName = directory("right", "--subject-alternative-name-ip-address", "127.0.0.1");
    wrongName = directory("wrong", "--subject-alternative-name-dns", "ldap.other.example");
  }

  @AfterAll
  static void stop() {
    rightName.server.shutDown(true);
    wrongName.server.shutDown(true);
  }

  private static Directory directory(String name, String sanOption, String sanValue) throws Exception {
    Path keystore = dir.resolve(name + ".p12");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ResultCode rc = ManageCertificates.main(InputStream.nullInputStream(), out, out,
        "generate-self-signed-certificate", "--keystore", keystore.toString(), "--keystore-password", "changeit",
        "--keystore-type", "PKCS12", "--alias", "server", "--subject-dn", "CN=" + sanValue, "--days-valid", "2",
        "--key-algorithm", "EC", "--key-size-bits", "256", "--signature-algorithm", "SHA256withECDSA",
        sanOption, sanValue);
    assertThat(rc).as(out.toString()).isEqualTo(ResultCode.SUCCESS);

    SSLUtil serverTls = new SSLUtil(new KeyStoreKeyManager(keystore.toFile(), "changeit".toCharArray(), "PKCS12",
        "server"), null);
    InMemoryDirectoryServerConfig config = new InMemoryDirectoryServerConfig(BASE);
    config.addAdditionalBindCredentials(ADMIN, ADMIN_PASSWORD);
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    config.setListenerConfigs(
        InMemoryListenerConfig.createLDAPSConfig("ldaps", loopback, 0, serverTls.createSSLServerSocketFactory(),
            null),
        InMemoryListenerConfig.createLDAPConfig("ldap", loopback, 0, serverTls.createSSLSocketFactory()));
    InMemoryDirectoryServer server = new InMemoryDirectoryServer(config);
    server.add("dn: " + BASE, "objectClass: domain", "dc: tls");
    server.add("dn: uid=tina," + BASE, "objectClass: inetOrgPerson", "uid: tina", "cn: Tina", "sn: T");
    server.add("dn: cn=g," + BASE, "objectClass: groupOfNames", "cn: g", "member: uid=tina," + BASE,
        "businessCategory: " + ROLE);
    server.startListening();

    // The client trusts exactly this certificate, as a trust store of its own; only the host name can fail.
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      keys.load(in, "changeit".toCharArray());
    }
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("server", keys.getCertificate("server"));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return new Directory(server, context);
  }

  private static LdapRolePolicy.Builder policy(URI url, SSLContext context) {
    return LdapRolePolicy.builder().url(url).sslContext(context).baseDn(BASE)
        .serviceAccount(ADMIN, ADMIN_PASSWORD.toCharArray());
  }

  @Test
  void ldaps_toACertificateNamingTheAddress_works() {
    try (LdapRolePolicy policy = policy(rightName.ldaps(), rightName.trust).build()) {
      assertThat(policy.rolesFor("tina").grants()).containsOnlyKeys(ROLE);
      assertThat(policy.toString()).contains("ldaps://127.0.0.1:");
    }
  }

  @Test
  void startTls_toACertificateNamingTheAddress_works() {
    try (LdapRolePolicy policy = policy(rightName.plain(), rightName.trust).startTls(true).build()) {
      assertThat(policy.rolesFor("tina").grants()).containsOnlyKeys(ROLE);
      assertThat(policy.toString()).contains("StartTLS");
    }
  }

  @Test
  void ldaps_toATrustedCertificateForAnotherHost_isRefused() {
    try (LdapRolePolicy policy = policy(wrongName.ldaps(), wrongName.trust).build()) {
      assertThatThrownBy(() -> policy.rolesFor("tina"))
          .isInstanceOfSatisfying(CredentialsException.class, e -> {
            assertThat(e.retryable()).isFalse();
            assertThat(e.getMessage()).contains(wrongName.ldaps().toString()).contains("TLS");
          });
    }
  }

  @Test
  void startTls_toATrustedCertificateForAnotherHost_isRefused() {
    try (LdapRolePolicy policy = policy(wrongName.plain(), wrongName.trust).startTls(true).build()) {
      assertThatThrownBy(() -> policy.rolesFor("tina"))
          .isInstanceOfSatisfying(CredentialsException.class, e -> assertThat(e.retryable()).isFalse());
    }
  }

  @Test
  void ldaps_toAnUntrustedCertificate_isRefused() {
    try (LdapRolePolicy policy = policy(rightName.ldaps(), wrongName.trust).build()) {
      assertThatThrownBy(() -> policy.rolesFor("tina"))
          .isInstanceOfSatisfying(CredentialsException.class, e -> assertThat(e.retryable()).isFalse());
    }
  }
}
