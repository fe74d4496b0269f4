package dev.hardway.testkit.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.services.sts.StsClient;

/** The extension shares one stack across classes, adds services per class, and hands out fresh names. */
@LocalAwsTest(Service.STS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalAwsExtensionTest {

  private static final AtomicReference<LocalAws> FIRST = new AtomicReference<>();

  @Test
  @Order(1)
  void injectsTheStackAndReadyClients(LocalAws aws, StsClient sts) {
    FIRST.compareAndSet(null, aws);

    assertThat(aws.isRunning(Service.STS)).isTrue();
    assertThat(sts).isSameAs(aws.sts());
    assertThat(sts.getCallerIdentity().account()).isEqualTo(LocalAws.ACCOUNT_ID);
  }

  @Test
  @Order(2)
  void fresh_givesUniqueValidNames(Fresh fresh) {
    Set<String> names = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      String name = fresh.name("bucket");
      assertThat(name).matches("[a-z][a-z0-9-]{2,62}").contains("fresh-givesuniquevalidnames");
      names.add(name);
    }

    assertThat(names).hasSize(200);
    assertThatThrownBy(() -> fresh.name("Bad_Prefix"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'Bad_Prefix'");
  }

  @Nested
  @LocalAwsTest(Service.LDAP)
  class AnotherClass {
    @Test
    void sharesTheSameStack_withItsOwnServicesAdded(LocalAws aws) {
      FIRST.compareAndSet(null, aws);

      assertThat(aws).isSameAs(FIRST.get());
      assertThat(aws.services()).contains(Service.STS, Service.LDAP);
    }
  }
}
