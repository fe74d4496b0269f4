package dev.hardway.testkit.junit;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * Starts the local AWS stack once per test JVM and shares it across test classes (start-up cost matters in CI); each
 * class adds the services it lists in {@link LocalAwsTest}. The stack is closed when the test run ends.
 *
 * <p>Test and lifecycle methods may take these parameters: {@link LocalAws}, {@link Fresh} (fresh names for this
 * test), and the ready-made clients {@link S3Client}, {@link S3AsyncClient}, {@link DynamoDbClient},
 * {@link DynamoDbStreamsClient}, {@link KinesisClient}, {@link KinesisAsyncClient} and {@link StsClient} (asking for
 * a client starts its service if needed). After each test every fault switched on through
 * {@link LocalAws#faults(Service)} is switched off again.
 */
public final class LocalAwsExtension implements BeforeAllCallback, AfterEachCallback, ParameterResolver {

  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(LocalAwsExtension.class);

  private static final Map<Class<?>, Function<LocalAws, Object>> CLIENTS = Map.of(
      S3Client.class, aws -> aws.ensureStarted(Service.S3).s3(),
      S3AsyncClient.class, aws -> aws.ensureStarted(Service.S3).s3Async(),
      DynamoDbClient.class, aws -> aws.ensureStarted(Service.DYNAMODB).dynamoDb(),
      DynamoDbStreamsClient.class, aws -> aws.ensureStarted(Service.DYNAMODB).dynamoDbStreams(),
      KinesisClient.class, aws -> aws.ensureStarted(Service.KINESIS).kinesis(),
      KinesisAsyncClient.class, aws -> aws.ensureStarted(Service.KINESIS).kinesisAsync(),
      StsClient.class, aws -> aws.ensureStarted(Service.STS).sts());

  /** Creates the extension; JUnit does this. */
  public LocalAwsExtension() {}

  @Override
  public void beforeAll(ExtensionContext context) {
    Service[] services = requested(context);
    stack(context).ensureStarted(services.length == 0 ? Service.values() : services);
  }

  private static Service[] requested(ExtensionContext context) {
    Optional<Class<?>> type = context.getTestClass();
    while (type.isPresent()) {
      Optional<LocalAwsTest> annotation = AnnotationSupport.findAnnotation(type.get(), LocalAwsTest.class);
      if (annotation.isPresent()) {
        return annotation.get().value();
      }
      type = Optional.ofNullable(type.get().getEnclosingClass());
    }
    return new Service[0];
  }

  /** The JVM-wide stack, kept in the root store, which closes it when the run ends. */
  private static LocalAws stack(ExtensionContext context) {
    return context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent(LocalAws.class, k -> LocalAws.builder().start(), LocalAws.class);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    LocalAws aws = context.getRoot().getStore(NAMESPACE).get(LocalAws.class, LocalAws.class);
    if (aws != null) {
      aws.clearFaults();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == LocalAws.class || type == Fresh.class || CLIENTS.containsKey(type);
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    LocalAws aws = stack(context);
    if (type == LocalAws.class) {
      return aws;
    }
    if (type == Fresh.class) {
      return context.getStore(NAMESPACE).getOrComputeIfAbsent(Fresh.class,
          k -> new Fresh(aws, context.getTestMethod().map(m -> m.getName()).orElse(context.getDisplayName())),
          Fresh.class);
    }
    Function<LocalAws, Object> client = CLIENTS.get(type);
    if (client == null) {
      throw new ParameterResolutionException("LocalAwsExtension cannot supply a " + type.getName());
    }
    return client.apply(aws);
  }
}
