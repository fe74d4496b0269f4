package dev.hardway.testkit.internal;

import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldif.LDIFException;
import com.unboundid.ldif.LDIFReader;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;

/** The UnboundID in-memory directory server on a loopback port, with a base entry and {@code people}/{@code groups}. */
public final class LdapServer implements AutoCloseable {

  private final InMemoryDirectoryServer server;
  private final String host;

  private LdapServer(InMemoryDirectoryServer server, String host) {
    this.server = server;
    this.host = host;
  }

  /**
   * Starts a directory.
   *
   * @param host the address to listen on
   * @param port the port, 0 for a free one
   * @param baseDn the base DN, e.g. {@code dc=hardway,dc=dev}
   * @param bindDn the administrator's DN
   * @param bindPassword the administrator's password
   * @return the running server
   * @throws IllegalStateException when it cannot start
   */
  public static LdapServer start(String host, int port, String baseDn, String bindDn, String bindPassword) {
    try {
      if (!baseDn.regionMatches(true, 0, "dc=", 0, 3)) {
        throw new IllegalArgumentException("LDAP base DN must start with dc=, got '" + baseDn + "'");
      }
      InMemoryDirectoryServerConfig config = new InMemoryDirectoryServerConfig(baseDn);
      config.addAdditionalBindCredentials(bindDn, bindPassword);
      config.setListenerConfigs(
          InMemoryListenerConfig.createLDAPConfig("ldap", InetAddress.getByName(host), port, null));
      InMemoryDirectoryServer server = new InMemoryDirectoryServer(config);
      String dc = baseDn.substring(3, baseDn.contains(",") ? baseDn.indexOf(',') : baseDn.length());
      server.add("dn: " + baseDn, "objectClass: top", "objectClass: domain", "dc: " + dc);
      server.add("dn: ou=people," + baseDn, "objectClass: top", "objectClass: organizationalUnit", "ou: people");
      server.add("dn: ou=groups," + baseDn, "objectClass: top", "objectClass: organizationalUnit", "ou: groups");
      server.startListening();
      return new LdapServer(server, host);
    } catch (LDAPException | LDIFException | UnknownHostException e) {
      throw new IllegalStateException("cannot start the LDAP server on " + host + ":" + port + " with base DN '"
          + baseDn + "': " + e.getMessage(), e);
    }
  }

  /**
   * Adds entries.
   *
   * @param ldif entries in LDIF, separated by blank lines
   * @return how many entries were added
   * @throws IllegalArgumentException naming the LDAP error when an entry cannot be added
   */
  public int add(String ldif) {
    try (LDIFReader reader = new LDIFReader(new BufferedReader(new StringReader(ldif)))) {
      int added = 0;
      for (Entry entry = reader.readEntry(); entry != null; entry = reader.readEntry()) {
        server.add(entry);
        added++;
      }
      return added;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (LDAPException | LDIFException e) {
      throw new IllegalArgumentException("cannot add LDIF entries: " + e.getMessage(), e);
    }
  }

  /**
   * The listening port.
   *
   * @return the port
   */
  public int port() {
    return server.getListenPort();
  }

  /**
   * The endpoint.
   *
   * @return {@code ldap://host:port}
   */
  public URI endpoint() {
    return URI.create("ldap://" + host + ":" + port());
  }

  /** Stops the server. */
  @Override
  public void close() {
    server.shutDown(true);
  }
}
