package dev.hardway.testkit;

import java.net.URI;
import java.util.Objects;
import java.util.function.ToIntFunction;

/**
 * The local LDAP directory: where it is, who may administer it, and a way to add entries. The directory starts with
 * its base entry and the organizational units {@code ou=people} and {@code ou=groups} under it.
 *
 * <pre>{@code
 * LdapDirectory ldap = aws.ldap();
 * ldap.add("""
 *     dn: uid=alice,ou=people,dc=hardway,dc=dev
 *     objectClass: inetOrgPerson
 *     uid: alice
 *     cn: Alice
 *     sn: Doe
 *     userPassword: alice-password
 *     """);
 * }</pre>
 */
public final class LdapDirectory {

  private final URI url;
  private final String baseDn;
  private final String bindDn;
  private final String bindPassword;
  private final ToIntFunction<String> adder;

  LdapDirectory(URI url, String baseDn, String bindDn, String bindPassword, ToIntFunction<String> adder) {
    this.url = url;
    this.baseDn = baseDn;
    this.bindDn = bindDn;
    this.bindPassword = bindPassword;
    this.adder = adder;
  }

  /**
   * The directory's URL.
   *
   * @return {@code ldap://127.0.0.1:<port>}
   */
  public URI url() {
    return url;
  }

  /**
   * The host clients connect to.
   *
   * @return the loopback address
   */
  public String host() {
    return url.getHost();
  }

  /**
   * The port clients connect to.
   *
   * @return the port
   */
  public int port() {
    return url.getPort();
  }

  /**
   * The base DN.
   *
   * @return e.g. {@code dc=hardway,dc=dev}
   */
  public String baseDn() {
    return baseDn;
  }

  /**
   * The administrator's DN, allowed to bind and to read and write everything.
   *
   * @return the bind DN
   */
  public String bindDn() {
    return bindDn;
  }

  /**
   * The administrator's password.
   *
   * @return the password
   */
  public String bindPassword() {
    return bindPassword;
  }

  /**
   * Adds entries.
   *
   * @param ldif one or more entries in LDIF, separated by blank lines
   * @return how many entries were added
   * @throws IllegalArgumentException naming the LDAP error when an entry cannot be added
   */
  public int add(String ldif) {
    return adder.applyAsInt(Objects.requireNonNull(ldif, "ldif"));
  }

  @Override
  public String toString() {
    return "LdapDirectory[" + url + ", base " + baseDn + "]";
  }
}
