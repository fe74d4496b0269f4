package dev.hardway.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchResult;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import org.junit.jupiter.api.Test;

/** LDAP (UnboundID in-memory directory) through the UnboundID client: binds and group searches. */
@LocalAwsTest(Service.LDAP)
class LdapServiceTest {

  @Test
  void userBind_andGroupSearchByMember(LocalAws aws, Fresh fresh) throws LDAPException {
    LdapDirectory ldap = aws.ldap();
    String uid = fresh.name("user");
    String userDn = "uid=" + uid + ",ou=people," + ldap.baseDn();
    ldap.add("""
        dn: %s
        objectClass: inetOrgPerson
        uid: %s
        cn: Test User
        sn: User
        userPassword: right-password

        dn: cn=%s-bidders,ou=groups,%s
        objectClass: groupOfNames
        cn: %s-bidders
        member: %s
        businessCategory: arn:aws:iam::000000000000:role/bidder
        """.formatted(userDn, uid, uid, ldap.baseDn(), uid, userDn));

    try (LDAPConnection connection = new LDAPConnection(ldap.host(), ldap.port())) {
      connection.bind(userDn, "right-password");
      SearchResult groups = connection.search("ou=groups," + ldap.baseDn(), SearchScope.SUB,
          Filter.createEqualityFilter("member", userDn), "cn", "businessCategory");

      assertThat(groups.getSearchEntries()).extracting(SearchResultEntry::getDN)
          .containsExactly("cn=" + uid + "-bidders,ou=groups," + ldap.baseDn());
      assertThat(groups.getSearchEntries().get(0).getAttributeValue("businessCategory"))
          .isEqualTo("arn:aws:iam::000000000000:role/bidder");
    }
  }

  @Test
  void wrongPassword_isInvalidCredentials(LocalAws aws) throws LDAPException {
    LdapDirectory ldap = aws.ldap();
    try (LDAPConnection connection = new LDAPConnection(ldap.host(), ldap.port())) {
      connection.bind(ldap.bindDn(), ldap.bindPassword());

      assertThatThrownBy(() -> connection.bind(ldap.bindDn(), "wrong"))
          .isInstanceOfSatisfying(LDAPException.class,
              e -> assertThat(e.getResultCode()).isEqualTo(ResultCode.INVALID_CREDENTIALS));
    }
  }
}
