package dev.hardway.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardway.testkit.LdapDirectory;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.TestClock;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link LdapRolePolicy} against the test kit's LDAP directory (UnboundID in-memory server on loopback). */
@LocalAwsTest(Service.LDAP)
class LdapRolePolicyTest {

  private static final String ACCOUNT = "123456789012";

  private static String role(String name) {
    return "arn:aws:iam::" + ACCOUNT + ":role/" + name;
  }

  private static String people(LdapDirectory ldap) {
    return "ou=people," + ldap.baseDn();
  }

  private static String groups(LdapDirectory ldap) {
    return "ou=groups," + ldap.baseDn();
  }

  private static String userDn(LdapDirectory ldap, String uid) {
    return "uid=" + uid + "," + people(ldap);
  }

  /** Adds a user; {@code defaultRoles} go into {@code employeeType}. */
  private static String addUser(LdapDirectory ldap, String uid, String password, String... defaultRoles) {
    StringBuilder ldif = new StringBuilder()
        .append("dn: ").append(userDn(ldap, uid)).append('\n')
        .append("objectClass: inetOrgPerson\n")
        .append("uid: ").append(uid).append('\n')
        .append("cn: ").append(uid).append('\n')
        .append("sn: Test\n")
        .append("userPassword: ").append(password).append('\n');
    for (String r : defaultRoles) {
      ldif.append("employeeType: ").append(r).append('\n');
    }
    ldap.add(ldif.toString());
    return userDn(ldap, uid);
  }

  /** Adds a {@code groupOfNames}; {@code durations} go into {@code description}. */
  private static void addGroup(LdapDirectory ldap, String cn, String[] members, String[] roles, String... durations) {
    StringBuilder ldif = new StringBuilder()
        .append("dn: cn=").append(cn).append(',').append(groups(ldap)).append('\n')
        .append("objectClass: groupOfNames\n")
        .append("cn: ").append(cn).append('\n');
    for (String m : members) {
      ldif.append("member: ").append(m).append('\n');
    }
    for (String r : roles) {
      ldif.append("businessCategory: ").append(r).append('\n');
    }
    for (String d : durations) {
      ldif.append("description: ").append(d).append('\n');
    }
    ldap.add(ldif.toString());
  }

  private static String[] of(String... values) {
    return values;
  }

  private static LdapRolePolicy.Builder serviceAccount(LdapDirectory ldap, URI url) {
    return LdapRolePolicy.builder()
        .url(url)
        .serviceAccount(ldap.bindDn(), ldap.bindPassword().toCharArray())
        .userBaseDn(people(ldap))
        .groupBaseDn(groups(ldap))
        .sessionDurationAttribute("description")
        .cacheTtl(Duration.ZERO);
  }

  private static LdapRolePolicy.Builder serviceAccount(LdapDirectory ldap) {
    return serviceAccount(ldap, ldap.url());
  }

  private static URI through(FaultProxy proxy) {
    return URI.create("ldap://127.0.0.1:" + proxy.port());
  }

  @Test
  void rolesFor_unitesTheUsersGroups_andTheLongerDurationWins(LocalAws aws, Fresh fresh) {
    LdapDirectory ldap = aws.ldap();
    String alice = fresh.name("alice");
    String bob = fresh.name("bob");
    String aliceDn = addUser(ldap, alice, "pw-a", role("b-" + alice));
    String bobDn = addUser(ldap, bob, "pw-b");
    addGroup(ldap, fresh.name("g1"), of(aliceDn), of(role("a-" + alice), role("b-" + alice)), "900");
    addGroup(ldap, fresh.name("g2"), of(aliceDn, bobDn), of(role("b-" + alice), role("c-" + alice)), "7200");
    addGroup(ldap, fresh.name("g3"), of(bobDn), of(role("d-" + alice)), "3600");

    try (LdapRolePolicy policy = serviceAccount(ldap).build()) {
      UserRoles roles = policy.rolesFor(alice);

      assertThat(roles.user()).isEqualTo(alice);
      assertThat(roles.grants()).containsOnly(
          Map.entry(role("a-" + alice), new RoleGrant(role("a-" + alice), Duration.ofSeconds(900))),
          Map.entry(role("b-" + alice), new RoleGrant(role("b-" + alice), Duration.ofHours(2))),
          Map.entry(role("c-" + alice), new RoleGrant(role("c-" + alice), Duration.ofHours(2))));
      assertThat(roles.defaultRoleArn()).isEqualTo(role("b-" + alice));
      assertThat(policy.rolesFor(bob).grants()).containsOnlyKeys(role("b-" + alice), role("c-" + alice),
          role("d-" + alice));
      assertThat(policy.rolesFor(bob).defaultRoleArn()).isNull();
    }
  }

  @Test
  void badDurations_andNonArnValues_areSkippedAndCounted_notFatal(LocalAws aws, Fresh fresh) {
    LdapDirectory ldap = aws.ldap();
    String carol = fresh.name("carol");
    String dn = addUser(ldap, carol, "pw", role("nope-" + carol));
    addGroup(ldap, fresh.name("short"), of(dn), of(role("short-" + carol)), "899");
    addGroup(ldap, fresh.name("long"), of(dn), of(role("long-" + carol)), "43201");
    addGroup(ldap, fresh.name("text"), of(dn), of(role("text-" + carol), "Engineering"), "an hour");
    addGroup(ldap, fresh.name("none"), of(dn), of(role("none-" + carol)));
    addGroup(ldap, fresh.name("mixed"), of(dn), of(role("mixed-" + carol)), "oops", "1800");

    try (LdapRolePolicy policy = serviceAccount(ldap).build()) {
      UserRoles roles = policy.rolesFor(carol);

      assertThat(roles.grants().values()).extracting(RoleGrant::sessionDuration).containsOnly(
          RoleGrant.DEFAULT_SESSION_DURATION, Duration.ofMinutes(30));
      assertThat(roles.grant(role("mixed-" + carol)).orElseThrow().sessionDuration())
          .isEqualTo(Duration.ofMinutes(30));
      assertThat(roles.grants()).hasSize(5).doesNotContainKey("Engineering");
      // employeeType names a role none of carol's groups grants: no default, never a role she lacks.
      assertThat(roles.defaultRoleArn()).isNull();
      LdapRolePolicy.Stats stats = policy.stats();
      assertThat(stats.ignoredDurations()).isEqualTo(4);
      assertThat(stats.ignoredRoleValues()).isEqualTo(1);
      assertThat(stats.ignoredDefaultRoles()).isEqualTo(1);
    }
  }

  @Test
  void withoutDurationAttribute_everyGroupGrantsOneHour(LocalAws aws, Fresh fresh) {
    LdapDirectory ldap = aws.ldap();
    String dave = fresh.name("dave");
    String dn = addUser(ldap, dave, "pw");
    addGroup(ldap, fresh.name("g"), of(dn), of(role("r-" + dave)), "900");

    try (LdapRolePolicy policy = serviceAccount(ldap).sessionDurationAttribute(null).build()) {
      assertThat(policy.rolesFor(dave).grant(role("r-" + dave)).orElseThrow().sessionDuration())
          .isEqualTo(Duration.ofHours(1));
    }
  }

  @Test
  void unknownUser_getsEmptyGrants(LocalAws aws, Fresh fresh) {
    LdapDirectory ldap = aws.ldap();
    try (LdapRolePolicy policy = serviceAccount(ldap).build()) {
      UserRoles roles = policy.rolesFor(fresh.name("ghost"));

      assertThat(roles.grants()).isEmpty();
      assertThat(roles.defaultRoleArn()).isNull();
      assertThat(policy.rolesFor("").grants()).isEmpty();
      assertThat(policy.rolesFor("x".repeat(LdapRolePolicy.MAX_USER_LENGTH + 1)).grants()).isEmpty();
      assertThat(policy.stats().unknownUsers()).isEqualTo(3);
    }
  }

  @Test
  void injectionAttempts_matchNobody_andNeverAnotherUser(LocalAws aws, Fresh fresh) {
    LdapDirectory ldap = aws.ldap();
    String erin = fresh.name("erin");
    String dn = addUser(ldap, erin, "pw");
    addGroup(ldap, fresh.name("g"), of(dn), of(role("r-" + erin)));

    try (LdapRolePolicy policy = serviceAccount(ldap).build()) {
      for (String attempt : new String[] {"*)(uid=*", "*", erin.substring(0, 5) + "*", "*)(|(uid=*", erin + ")(uid=*",
          "*)(objectClass=*", erin + "\u0000", "\\2a", erin.toUpperCase(java.util.Locale.ROOT), " " + erin,
          erin + " "}) {
        UserRoles roles = policy.rolesFor(attempt);
        assertThat(roles.grants()).as("grants for %s", attempt).isEmpty();
        assertThat(roles.user()).isEqualTo(attempt);
      }
      assertThat(policy.rolesFor(erin).grants()).containsOnlyKeys(role("r-" + erin));
    }
  }

  @Test
  void twoEntriesHoldingTheName_areRefused_notGuessed(LocalAws aws, Fresh fresh) {
    LdapDirectory ldap = aws.ldap();
    String frank = fresh.name("frank");
    addUser(ldap, frank, "pw");
    ldap.add("dn: cn=" + frank + "," + people(ldap) + "\nobjectClass: inetOrgPerson\nuid: " + frank + "\ncn: "
        + frank + "\nsn: Twin\n");

    try (LdapRolePolicy policy = serviceAccount(ldap).build()) {
      assertThatThrownBy(() -> policy.rolesFor(frank))
          .isInstanceOfSatisfying(CredentialsException.class, e -> {
            assertThat(e.retryable()).isFalse();
            assertThat(e.getMessage()).contains("more than one entry").contains(frank);
          });
      assertThat(policy.stats().failures()).isEqualTo(1);
    }
  }

  @Test
  void userBind_withTemplate_readsGroupsAsTheUser_andRefusesWrongPassword(LocalAws aws, Fresh fresh) {
    LdapDirectory ldap = aws.ldap();
    String gina = fresh.name("gina");
    String dn = addUser(ldap, gina, "gina-right", role("r-" + gina));
    addGroup(ldap, fresh.name("g"), of(dn), of(role("r-" + gina)), "1800");
    AtomicInteger asked = new AtomicInteger();
    String[] password = {"gina-right"};

    try (LdapRolePolicy policy = LdapRolePolicy.builder()
        .url(ldap.url())
        .userBind(user -> {
          asked.incrementAndGet();
          return password[0].toCharArray();
        })
        .userDnTemplate("uid={user}," + people(ldap))
        .baseDn(ldap.baseDn())
        .sessionDurationAttribute("description")
        .cacheTtl(Duration.ZERO)
        .build()) {
      UserRoles roles = policy.rolesFor(gina);
      assertThat(roles.grants()).containsOnlyKeys(role("r-" + gina));
      assertThat(roles.grant(role("r-" + gina)).orElseThrow().sessionDuration()).isEqualTo(Duration.ofMinutes(30));
      assertThat(roles.defaultRoleArn()).isEqualTo(role("r-" + gina));

      password[0] = "gina-wrong";
      assertThatThrownBy(() -> policy.rolesFor(gina))
          .isInstanceOfSatisfying(CredentialsException.class, e -> {
            assertThat(e.retryable()).isFalse();
            assertThat(e.getMessage()).contains("refused the bind").contains(gina).doesNotContain("gina-wrong");
          });
      // The template escapes the name: no DN such as uid=*,… is formed, and nothing binds.
      password[0] = "gina-right";
      assertThatThrownBy(() -> policy.rolesFor("*)(uid=*")).isInstanceOf(CredentialsException.class)
          .hasMessageContaining("refused the bind");
      assertThat(asked).hasValue(3);
    }
  }

  @Test
  void userBind_withEmptyPassword_isRefusedWithoutAnAnonymousBind(LocalAws aws, Fresh fresh) {
    LdapDirectory ldap = aws.ldap();
    String hank = fresh.name("hank");
    String dn = addUser(ldap, hank, "pw");
    addGroup(ldap, fresh.name("g"), of(dn), of(role("r-" + hank)));

    try (LdapRolePolicy policy = LdapRolePolicy.builder().url(ldap.url()).baseDn(ldap.baseDn())
        .userBind(user -> new char[0]).userDnTemplate("uid={user}," + people(ldap)).build()) {
      assertThatThrownBy(() -> policy.rolesFor(hank))
          .isInstanceOfSatisfying(CredentialsException.class, e -> {
            assertThat(e.retryable()).isFalse();
            assertThat(e.getMessage()).contains("no password");
          });
    }
    try (LdapRolePolicy policy = LdapRolePolicy.builder().url(ldap.url()).baseDn(ldap.baseDn())
        .userBind(user -> null).userDnTemplate("uid={user}," + people(ldap)).build()) {
      assertThatThrownBy(() -> policy.rolesFor(hank)).isInstanceOf(CredentialsException.class)
          .hasMessageContaining("no password");
    }
  }

  @Test
  void userBind_searchThenBind_returnsConnectionsToTheServiceIdentity(LocalAws aws, Fresh fresh) {
    LdapDirectory ldap = aws.ldap();
    String ivy = fresh.name("ivy");
    String jack = fresh.name("jack");
    String ivyDn = addUser(ldap, ivy, "ivy-pw");
    String jackDn = addUser(ldap, jack, "jack-pw");
    addGroup(ldap, fresh.name("gi"), of(ivyDn), of(role("r-" + ivy)));
    addGroup(ldap, fresh.name("gj"), of(jackDn), of(role("r-" + jack)));
    Map<String, String> passwords = Map.of(ivy, "ivy-pw", jack, "jack-pw");

    try (LdapRolePolicy policy = serviceAccount(ldap)
        .userBind(user -> passwords.containsKey(user) ? passwords.get(user).toCharArray() : null)
        .maxConnections(1)
        .build()) {
      // One pooled connection: jack's lookup borrows the connection ivy was bound on, re-authenticated in between.
      assertThat(policy.rolesFor(ivy).grants()).containsOnlyKeys(role("r-" + ivy));
      assertThat(policy.rolesFor(jack).grants()).containsOnlyKeys(role("r-" + jack));
      assertThat(policy.rolesFor(fresh.name("nobody")).grants()).isEmpty();
      assertThat(policy.rolesFor("*").grants()).isEmpty();
    }
  }

  @Test
  void wrongServicePassword_isNotRetryable(LocalAws aws) {
    LdapDirectory ldap = aws.ldap();
    try (LdapRolePolicy policy = LdapRolePolicy.builder().url(ldap.url()).baseDn(ldap.baseDn())
        .serviceAccount(ldap.bindDn(), "not-the-password".toCharArray()).build()) {
      assertThatThrownBy(() -> policy.rolesFor("anyone"))
          .isInstanceOfSatisfying(CredentialsException.class, e -> {
            assertThat(e.retryable()).isFalse();
            assertThat(e.getMessage()).contains("invalid credentials").contains(ldap.url().toString())
                .doesNotContain("not-the-password");
          });
    }
  }

  @Test
  void directoryRefusingConnections_isRetryable_andNamesTheServer(LocalAws aws, Fresh fresh) {
    LdapDirectory ldap = aws.ldap();
    FaultProxy proxy = aws.faults(Service.LDAP).refuseConnections(true);
    Duration connectTimeout = Duration.ofMillis(500);
    try (LdapRolePolicy policy = serviceAccount(ldap, through(proxy)).connectTimeout(connectTimeout).build()) {
      long start = System.nanoTime();

      assertThatThrownBy(() -> policy.rolesFor(fresh.name("kim")))
          .isInstanceOfSatisfying(CredentialsException.class, e -> {
            assertThat(e.retryable()).isTrue();
            assertThat(e.getMessage()).contains("ldap://127.0.0.1:" + proxy.port());
          });
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(connectTimeout.multipliedBy(4));
    }
  }

  @Test
  void directoryGoingSilent_isRetryable_withinTheResponseTimeout(LocalAws aws, Fresh fresh) {
    LdapDirectory ldap = aws.ldap();
    String liz = fresh.name("liz");
    String dn = addUser(ldap, liz, "pw");
    addGroup(ldap, fresh.name("g"), of(dn), of(role("r-" + liz)));
    FaultProxy proxy = aws.faults(Service.LDAP);
    Duration responseTimeout = Duration.ofMillis(500);
    try (LdapRolePolicy policy = serviceAccount(ldap, through(proxy)).responseTimeout(responseTimeout).build()) {
      assertThat(policy.rolesFor(liz).grants()).containsOnlyKeys(role("r-" + liz));
      proxy.blackHole(true);
      long start = System.nanoTime();

      assertThatThrownBy(() -> policy.rolesFor(liz))
          .isInstanceOfSatisfying(CredentialsException.class, e -> {
            assertThat(e.retryable()).isTrue();
            assertThat(e.getMessage()).contains("ldap://127.0.0.1:" + proxy.port());
          });
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(responseTimeout.multipliedBy(4));

      proxy.blackHole(false);
      // The timed-out connection was dropped; the pool opens a fresh one.
      assertThat(policy.rolesFor(liz).grants()).containsOnlyKeys(role("r-" + liz));
      assertThat(policy.stats().failures()).isEqualTo(1);
    }
  }

  @Test
  void cache_servesAnswersUntilTheTtlPasses_onTheInjectedClock(LocalAws aws, Fresh fresh) {
    LdapDirectory ldap = aws.ldap();
    String mia = fresh.name("mia");
    String dn = addUser(ldap, mia, "pw");
    addGroup(ldap, fresh.name("g1"), of(dn), of(role("one-" + mia)));
    TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));

    try (LdapRolePolicy policy = serviceAccount(ldap).cacheTtl(Duration.ofSeconds(30)).clock(clock).build()) {
      assertThat(policy.rolesFor(mia).grants()).containsOnlyKeys(role("one-" + mia));
      addGroup(ldap, fresh.name("g2"), of(dn), of(role("two-" + mia)));

      clock.advance(Duration.ofSeconds(29));
      assertThat(policy.rolesFor(mia).grants()).containsOnlyKeys(role("one-" + mia));
      assertThat(policy.stats().cacheHits()).isEqualTo(1);
      assertThat(policy.stats().directoryLookups()).isEqualTo(1);

      clock.advance(Duration.ofSeconds(1));
      assertThat(policy.rolesFor(mia).grants()).containsOnlyKeys(role("one-" + mia), role("two-" + mia));
      assertThat(policy.stats().directoryLookups()).isEqualTo(2);

      policy.invalidateAll();
      policy.rolesFor(mia);
      assertThat(policy.stats().directoryLookups()).isEqualTo(3);
      assertThat(policy.stats().lookups()).isEqualTo(4);
    }
  }

  @Test
  void cache_isBounded_andCountsWhatItCouldNotKeep(LocalAws aws, Fresh fresh) {
    LdapDirectory ldap = aws.ldap();
    TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
    try (LdapRolePolicy policy = serviceAccount(ldap).cacheTtl(Duration.ofSeconds(30)).maxCachedUsers(2)
        .clock(clock).build()) {
      policy.rolesFor(fresh.name("a"));
      policy.rolesFor(fresh.name("b"));
      policy.rolesFor(fresh.name("c"));
      assertThat(policy.stats().uncached()).isEqualTo(1);

      clock.advance(Duration.ofSeconds(30));
      policy.rolesFor(fresh.name("d"));
      assertThat(policy.stats().uncached()).isEqualTo(1);
    }
  }

  @Test
  void closed_isIdempotent_andRefusesLookups(LocalAws aws) {
    LdapRolePolicy policy = serviceAccount(aws.ldap()).build();
    policy.close();
    policy.close();

    assertThatThrownBy(() -> policy.rolesFor("anyone")).isInstanceOf(IllegalStateException.class);
    assertThat(policy.toString()).contains(aws.ldap().url().toString()).doesNotContain(aws.ldap().bindPassword());
  }

  @Test
  void builder_refusesBadConfiguration_namingTheOption() {
    assertThatThrownBy(() -> LdapRolePolicy.builder().url(URI.create("http://ldap.example.com")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("url")
        .hasMessageContaining("http://ldap.example.com");
    assertThatThrownBy(() -> LdapRolePolicy.builder().userBaseDn("not a dn"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("userBaseDn")
        .hasMessageContaining("not a dn");
    assertThatThrownBy(() -> LdapRolePolicy.builder().roleAttribute("business Category"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("roleAttribute");
    assertThatThrownBy(() -> LdapRolePolicy.builder().userDnTemplate("uid=*,ou=people,dc=x"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("userDnTemplate");
    assertThatThrownBy(() -> LdapRolePolicy.builder().userDnTemplate("cn=x+uid={user},dc=x"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("userDnTemplate");
    assertThatThrownBy(() -> LdapRolePolicy.builder().serviceAccount("cn=admin,dc=x", new char[0]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("serviceAccount");
    assertThatThrownBy(() -> LdapRolePolicy.builder().responseTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("responseTimeout")
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> LdapRolePolicy.builder().cacheTtl(Duration.ofHours(2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cacheTtl").hasMessageContaining("PT2H");
    assertThatThrownBy(() -> LdapRolePolicy.builder().maxConnections(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxConnections");

    assertThatThrownBy(() -> LdapRolePolicy.builder().baseDn("dc=x").serviceAccount("cn=a,dc=x", "p".toCharArray())
        .build()).isInstanceOf(IllegalStateException.class).hasMessageContaining("url");
    assertThatThrownBy(() -> LdapRolePolicy.builder().url(URI.create("ldap://127.0.0.1:1"))
        .serviceAccount("cn=a,dc=x", "p".toCharArray()).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("userBaseDn");
    assertThatThrownBy(() -> LdapRolePolicy.builder().url(URI.create("ldap://127.0.0.1:1")).baseDn("dc=x").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("serviceAccount")
        .hasMessageContaining("userBind");
    assertThatThrownBy(() -> LdapRolePolicy.builder().url(URI.create("ldaps://127.0.0.1:1")).startTls(true)
        .baseDn("dc=x").serviceAccount("cn=a,dc=x", "p".toCharArray()).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("startTls");
    assertThatThrownBy(() -> LdapRolePolicy.builder().url(URI.create("ldap://127.0.0.1:1")).baseDn("dc=x")
        .serviceAccount("cn=a,dc=x", "p".toCharArray()).userDnTemplate("uid={user},dc=x").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("userDnTemplate");
  }
}
