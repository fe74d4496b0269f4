package dev.hardway.credentials;

import static org.assertj.core.api.Assertions.assertThat;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.RDN;
import dev.hardway.testkit.LdapDirectory;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Whatever name is asked for (LDAP filter and DN metacharacters, NUL, unicode, lone surrogates, case and space
 * variants of real names), {@link LdapRolePolicy} answers with that exact user's grants or with none: never another
 * user's. The directory holds users whose names are themselves metacharacters, such as {@code *} and {@code a)(b}.
 */
class LdapFilterProperties {

  /** Users in the directory and the one role each is granted. */
  private static final List<String> USERS = List.of("plain", "*", "star*", "a)(b", "(uid=*)", "back\\slash",
      "comma,plus+", "eq=al", "semi;colon", "quote\"d", "what?", "Ünïcødé", "中文名", "emoji😀", "#hash",
      " lead", "sp ace");

  private static LocalAws aws;
  private static LdapRolePolicy policy;
  private static final Map<String, String> ROLE_OF = new LinkedHashMap<>();

  @BeforeContainer
  static void seed() {
    aws = LocalAws.builder().services(Service.LDAP).start();
    LdapDirectory ldap = aws.ldap();
    DN people = dn("ou=people," + ldap.baseDn());
    for (int i = 0; i < USERS.size(); i++) {
      String user = USERS.get(i);
      String role = "arn:aws:iam::123456789012:role/user-" + i;
      ROLE_OF.put(user, role);
      String userDn = new DN(new RDN("uid", user), people).toString();
      ldap.add("dn:: " + b64(userDn) + "\nobjectClass: inetOrgPerson\nuid:: " + b64(user) + "\ncn: user " + i
          + "\nsn: Test\n\n"
          + "dn: cn=group-" + i + ",ou=groups," + ldap.baseDn() + "\nobjectClass: groupOfNames\ncn: group-" + i
          + "\nmember:: " + b64(userDn) + "\nbusinessCategory: " + role + "\n");
    }
    policy = LdapRolePolicy.builder()
        .url(ldap.url())
        .serviceAccount(ldap.bindDn(), ldap.bindPassword().toCharArray())
        .userBaseDn(people.toString())
        .groupBaseDn("ou=groups," + ldap.baseDn())
        .cacheTtl(Duration.ZERO)
        .build();
  }

  @AfterContainer
  static void stop() {
    policy.close();
    aws.close();
  }

  private static DN dn(String value) {
    try {
      return new DN(value);
    } catch (com.unboundid.ldap.sdk.LDAPException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Property(tries = 400)
  void rolesFor_givesThatExactUsersGrants_orNone(@ForAll("names") String name) {
    UserRoles roles = policy.rolesFor(name);

    String own = ROLE_OF.get(name);
    if (own == null) {
      assertThat(roles.grants()).as("grants for %s", Printable.quote(name)).isEmpty();
    } else {
      assertThat(roles.grants()).as("grants for %s", Printable.quote(name)).containsOnlyKeys(own);
    }
    assertThat(roles.user()).isEqualTo(name);
  }

  @Property(tries = 50)
  void everySeededUser_isFound(@ForAll("seeded") String name) {
    assertThat(policy.rolesFor(name).grants()).containsOnlyKeys(ROLE_OF.get(name));
  }

  @Provide
  Arbitrary<String> seeded() {
    return Arbitraries.of(USERS);
  }

  @Provide
  Arbitrary<String> names() {
    Arbitrary<String> meta = Arbitraries.strings()
        .withChars("*()\\\0=,+;\"<>#?& ")
        .withCharRange('a', 'e')
        .withChars("üÜé中文😀")
        .ofMaxLength(12);
    Arbitrary<String> anything = Arbitraries.strings().all().ofMaxLength(12);
    Arbitrary<String> variants = Arbitraries.of(USERS).flatMap(user -> Arbitraries.oneOf(
        Arbitraries.just(user.toUpperCase(Locale.ROOT)),
        Arbitraries.just(user.toLowerCase(Locale.ROOT)),
        Arbitraries.just(" " + user + " "),
        meta.map(suffix -> user + suffix),
        meta.map(prefix -> prefix + user),
        Arbitraries.integers().between(0, user.length()).map(n -> user.substring(0, n))));
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(2, Arbitraries.of(USERS)),
        net.jqwik.api.Tuple.of(4, variants),
        net.jqwik.api.Tuple.of(4, meta),
        net.jqwik.api.Tuple.of(2, anything));
  }
}
