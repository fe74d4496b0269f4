package dev.hardway.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardway.testkit.junit.LocalAwsTest;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.Test;

/** Redis (bundled redis-server child process) through Lettuce. */
@LocalAwsTest(Service.REDIS)
class RedisServiceTest {

  @Test
  void setAndGet_roundTrip(LocalAws aws) {
    RedisClient client = RedisClient.create(RedisURI.create(aws.endpoint(Service.REDIS).toString()));
    try (StatefulRedisConnection<String, String> connection = client.connect()) {
      connection.sync().set("budget:42", "1000");
      connection.sync().incrby("budget:42", -250);

      assertThat(connection.sync().get("budget:42")).isEqualTo("750");
    } finally {
      client.shutdown();
    }
  }

  @Test
  void password_whenSet_isRequired() {
    try (LocalAws aws = LocalAws.builder().services(Service.REDIS).redisPassword("s3cret").start()) {
      String withPassword = aws.endpoint(Service.REDIS).toString();
      String without = "redis://127.0.0.1:" + aws.port(Service.REDIS);
      RedisClient ok = RedisClient.create(withPassword);
      RedisClient anonymous = RedisClient.create(without);
      try (StatefulRedisConnection<String, String> connection = ok.connect()) {
        assertThat(connection.sync().ping()).isEqualTo("PONG");
        // Lettuce's handshake (HELLO) is refused, so connecting without the password fails outright.
        assertThatThrownBy(anonymous::connect)
            .isInstanceOf(RedisConnectionException.class)
            .hasRootCauseInstanceOf(RedisCommandExecutionException.class)
            .rootCause().hasMessageContaining("NOAUTH");
      } finally {
        ok.shutdown();
        anonymous.shutdown();
      }
    }
  }
}
