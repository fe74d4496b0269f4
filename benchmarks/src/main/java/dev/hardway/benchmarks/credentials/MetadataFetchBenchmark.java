package dev.hardway.benchmarks.credentials;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.hardway.credentials.MetadataServer;
import dev.hardway.credentials.RoleBroker;
import dev.hardway.credentials.RoleCredentials;
import dev.hardway.credentials.StaticRolePolicy;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.sts.StsRole;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider;

/**
 * End to end on loopback: what the SDK's own {@code InstanceProfileCredentialsProvider} pays for a full IMDSv2
 * fetch (token, role list, credentials) from the Hardway metadata imitator, and how many requests per second the
 * imitator answers on keep-alive connections; each beside a baseline in the same run, the JDK's
 * {@code com.sun.net.httpserver} serving the same documents with {@code TCP_NODELAY} on (the reference's
 * well-tuned JDK server), and then how many STS calls 100 concurrent requests for a cold role cause.
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl benchmarks exec:exec
 * -Dbench.main=dev.hardway.benchmarks.credentials.MetadataFetchBenchmark -Dbench.args="2000 10"} (fetches per
 * server, seconds of load per server). Results are in {@code benchmarks/README.md}.
 */
public final class MetadataFetchBenchmark {
  private MetadataFetchBenchmark() {}

  public static void main(String[] args) throws Exception {
    int fetches = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    // Read once by the JDK server's configuration: must be set before it is first used.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    try (LocalAws aws = LocalAws.start(Service.STS)) {
      String role = "arn:aws:iam::000000000000:role/bench";
      aws.stsServer().putRole(StsRole.builder(role).trust(StsRole.ANYONE).build());
      try (RoleBroker broker = RoleBroker.builder().sts(aws.sts()).user("bench")
              .policy(StaticRolePolicy.builder().grant("bench", role).defaultRole("bench", role).build()).build();
          MetadataServer imds = MetadataServer.builder().broker(broker).build()) {
        RoleCredentials c = broker.currentCredentials();
        HttpServer jdk = jdkServer(c);
        try {
          URI jdkEndpoint = URI.create("http://127.0.0.1:" + jdk.getAddress().getPort());
          System.out.println("# full IMDSv2 fetch by the SDK provider (" + fetches + " fetches after "
              + fetches / 4 + " warm-up)");
          report("hardway imitator", fetchLatency(imds.endpoint(), fetches));
          report("jdk HttpServer (baseline)", fetchLatency(jdkEndpoint, fetches));
          String path = "/latest/meta-data/iam/security-credentials/bench";
          System.out.println("# keep-alive GET " + path + " with a token, 4 connections, " + seconds + " s");
          String token = token(imds.port());
          System.out.printf("hardway imitator          %,10.0f requests/s%n",
              throughput(imds.port(), path, token, seconds));
          System.out.printf("jdk HttpServer (baseline) %,10.0f requests/s%n",
              throughput(jdk.getAddress().getPort(), path, "x", seconds));
        } finally {
          jdk.stop(0);
        }
      }
      System.out.println("# 100 concurrent requests for a cold role");
      singleFlight(aws, role);
    }
  }

  private static Histogram fetchLatency(URI endpoint, int fetches) {
    Histogram h = new Histogram(3);
    // A new provider per fetch: the SDK caches credentials, so only a fresh one does the whole exchange (token,
    // role list, credentials), as every process does at start-up. Building it is part of what is timed.
    for (int i = 0; i < fetches / 4 + fetches; i++) {
      long t0 = System.nanoTime();
      try (InstanceProfileCredentialsProvider sdk = InstanceProfileCredentialsProvider.builder()
          .endpoint(endpoint.toString()).build()) {
        sdk.resolveCredentials();
      }
      long t = System.nanoTime() - t0;
      if (i >= fetches / 4) {
        h.recordValue(t);
      }
    }
    return h;
  }

  private static void report(String name, Histogram h) {
    System.out.printf("%-26s p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms%n", name,
        h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6, h.getMaxValue() / 1e6);
  }

  private static String token(int port) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.getOutputStream().write(("PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1:" + port
          + "\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      return new String(readResponse(s.getInputStream()), StandardCharsets.UTF_8);
    }
  }

  private static double throughput(int port, String path, String token, int seconds) throws Exception {
    byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nX-aws-ec2-metadata-token: "
        + token + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    LongAdder done = new LongAdder();
    int connections = 4;
    CountDownLatch finished = new CountDownLatch(connections);
    long warmEnd = System.nanoTime() + 2_000_000_000L;
    long end = warmEnd + seconds * 1_000_000_000L;
    for (int i = 0; i < connections; i++) {
      Thread.ofPlatform().daemon().start(() -> {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
          s.setTcpNoDelay(true);
          OutputStream out = s.getOutputStream();
          InputStream in = new java.io.BufferedInputStream(s.getInputStream());
          long now;
          while ((now = System.nanoTime()) < end) {
            out.write(request);
            out.flush();
            readResponse(in);
            if (now > warmEnd) {
              done.increment();
            }
          }
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        } finally {
          finished.countDown();
        }
      });
    }
    finished.await();
    return done.sum() / (double) seconds;
  }

  private static byte[] readResponse(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0) {
      head.append((char) b);
      if (head.length() >= 4 && head.lastIndexOf("\r\n\r\n") == head.length() - 4) {
        break;
      }
    }
    int len = 0;
    for (String line : head.toString().split("\r\n")) {
      if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
        len = Integer.parseInt(line.substring(15).strip());
      }
    }
    byte[] body = in.readNBytes(len);
    if (!head.toString().startsWith("HTTP/1.1 200")) {
      throw new IOException("unexpected response: " + head.toString().lines().findFirst().orElse(""));
    }
    return body;
  }

  /** The baseline: the JDK's HttpServer answering the same three requests with the same documents. */
  private static HttpServer jdkServer(RoleCredentials c) throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    String doc = "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"" + c.lastUpdated() + "\",\n"
        + "  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"" + c.accessKeyId() + "\",\n"
        + "  \"SecretAccessKey\" : \"" + c.secretAccessKey() + "\",\n  \"Token\" : \"" + c.sessionToken() + "\",\n"
        + "  \"Expiration\" : \"" + c.expiration() + "\"\n}";
    s.createContext("/latest/api/token", ex -> answer(ex, "AQAEAtokentokentokentokentokentokentokentokentok"));
    s.createContext("/latest/meta-data/iam/security-credentials/", ex ->
        answer(ex, ex.getRequestURI().getPath().endsWith("/") ? "bench" : doc));
    s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    s.start();
    return s;
  }

  private static void answer(HttpExchange ex, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getRequestBody().readAllBytes();
    ex.getResponseHeaders().set("Content-Type", "text/plain");
    ex.sendResponseHeaders(200, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }

  private static void singleFlight(LocalAws aws, String role) throws Exception {
    long before = aws.stsServer().stats().credentialsIssued();
    try (RoleBroker broker = RoleBroker.builder().sts(aws.sts()).user("cold")
        .policy(StaticRolePolicy.builder().grant("cold", role).defaultRole("cold", role).build()).build()) {
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        threads.add(Thread.ofPlatform().start(() -> {
          try {
            go.await();
            broker.credentials(role);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }));
      }
      go.countDown();
      for (Thread t : threads) {
        t.join();
      }
      System.out.println("STS AssumeRole calls: broker counted " + broker.status().stsCalls()
          + ", STS server issued " + (aws.stsServer().stats().credentialsIssued() - before));
    }
  }
}
