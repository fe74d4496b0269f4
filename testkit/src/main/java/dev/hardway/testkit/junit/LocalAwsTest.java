package dev.hardway.testkit.junit;

import dev.hardway.testkit.Service;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a test class against the shared local AWS stack, starting the listed services if they are not running yet.
 *
 * <pre>{@code
 * @LocalAwsTest({Service.S3, Service.KINESIS})
 * class UploaderTest {
 *   @Test
 *   void uploads(S3Client s3, Fresh fresh) {
 *     String bucket = fresh.bucket();
 *     s3.putObject(b -> b.bucket(bucket).key("k"), RequestBody.fromString("v"));
 *   }
 * }
 * }</pre>
 *
 * @see LocalAwsExtension
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(LocalAwsExtension.class)
public @interface LocalAwsTest {

  /**
   * The services the tests need; empty means all of them.
   *
   * @return the services
   */
  Service[] value() default {};
}
