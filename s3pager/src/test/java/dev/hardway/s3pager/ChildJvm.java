package dev.hardway.s3pager;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts a test main in a JVM of its own (same class path); callers destroy it in a finally. */
final class ChildJvm {
  private ChildJvm() { }

  static Process start(Class<?> main, List<String> jvmOptions, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED");
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.addAll(List.of(args));
    return new ProcessBuilder(command)
        .redirectError(ProcessBuilder.Redirect.appendTo(Path.of("target", main.getSimpleName() + ".err").toFile()))
        .start();
  }

  static S3Pager.Builder pager(String endpoint, String region) {
    return S3Pager.builder().endpoint(java.net.URI.create(endpoint)).region(region).pathStyle(true)
        .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
            software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(
                dev.hardway.testkit.LocalAws.DEFAULT_ACCESS_KEY_ID,
                dev.hardway.testkit.LocalAws.DEFAULT_SECRET_ACCESS_KEY)));
  }
}
