package dev.hardway.testkit.internal;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * s3proxy in this JVM, with an in-memory or filesystem store and SigV2/SigV4 authentication against one key pair and
 * any session secret a resolver knows (the test kit's STS sessions).
 *
 * <p>s3proxy is reached by reflection: its jar cannot be an automatic module (its {@code META-INF/services} names
 * shaded Jetty classes the jar does not contain), so this named module cannot require it, while the jar works on the
 * class path, where test runners put it.
 */
public final class S3ProxyServer implements AutoCloseable {

  private static final String PKG = "org.gaul.s3proxy.";

  private final Object proxy;
  private final String host;
  private final int port;

  private S3ProxyServer(Object proxy, String host, int port) {
    this.proxy = proxy;
    this.host = host;
    this.port = port;
  }

  /**
   * Starts s3proxy.
   *
   * @param host the address to listen on
   * @param port the port, 0 for a free one
   * @param accessKeyId the only access key id accepted
   * @param secretAccessKey its secret
   * @param sessionSecrets the secret of another access key id (a session issued by the test kit's STS), or null
   * @param directory a folder for a filesystem store that outlives the process, or null for an in-memory store
   * @param timeout how long to wait for it to start
   * @return the running server
   * @throws IllegalStateException when s3proxy is missing from the class path or does not start
   */
  public static S3ProxyServer start(String host, int port, String accessKeyId, String secretAccessKey,
      Function<String, @Nullable String> sessionSecrets, @Nullable Path directory, Duration timeout) {
    try {
      ClassLoader loader = loader();
      Class<?> s3proxy = Class.forName(PKG + "S3Proxy", true, loader);
      Object builder = s3proxy.getMethod("builder").invoke(null);
      Class<?> builderType = builder.getClass();
      Class<?> blobStoreType = Class.forName(PKG + "blobstore.BlobStore", true, loader);
      Object store = directory == null
          ? Class.forName(PKG + "nio2blob.TransientNio2BlobStore", true, loader).getConstructor().newInstance()
          : Class.forName(PKG + "nio2blob.FilesystemNio2BlobStore", true, loader).getConstructor(String.class)
              .newInstance(directory.toAbsolutePath().toString());
      builderType.getMethod("blobStore", blobStoreType).invoke(builder, store);
      builderType.getMethod("endpoint", URI.class).invoke(builder, URI.create("http://" + host + ":" + port));
      Class<?> authType = Class.forName(PKG + "auth.AuthenticationType", true, loader);
      builderType.getMethod("awsAuthentication", authType, String.class, String.class)
          .invoke(builder, authType.getField("AWS_V2_OR_V4").get(null), accessKeyId, secretAccessKey);
      // s3proxy answers 501 to x-amz- headers it does not know, among them x-amz-security-token, which every request
      // signed with STS session credentials carries: it is signed, so it must reach the signature check untouched.
      builderType.getMethod("ignoreUnknownHeaders", boolean.class).invoke(builder, true);
      Object proxy = builderType.getMethod("build").invoke(builder);
      // A locator answers each request's access key id with its secret (null: an unknown key, refused).
      Class<?> locatorType = Class.forName(PKG + "BlobStoreLocator", true, loader);
      Constructor<?> grant = Class.forName(PKG + "AccessGrant", true, loader).getConstructor(String.class,
          blobStoreType);
      Object locator = Proxy.newProxyInstance(loader, new Class<?>[] {locatorType}, (self, method, a) -> {
        if (method.getDeclaringClass() == Object.class) {
          return switch (method.getName()) {
            case "equals" -> self == a[0];
            case "hashCode" -> System.identityHashCode(self);
            default -> "test kit S3 credentials";
          };
        }
        String identity = (String) a[0];
        String secret = identity == null ? null
            : identity.equals(accessKeyId) ? secretAccessKey : sessionSecrets.apply(identity);
        return secret == null ? null : grant.newInstance(secret, store);
      });
      s3proxy.getMethod("setBlobStoreLocator", locatorType).invoke(proxy, locator);
      Method getState = s3proxy.getMethod("getState");
      s3proxy.getMethod("start").invoke(proxy);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!"STARTED".equals(getState.invoke(proxy))) {
        if (System.nanoTime() > deadline) {
          s3proxy.getMethod("stop").invoke(proxy);
          throw new IllegalStateException("s3proxy did not start within " + timeout + ", state "
              + getState.invoke(proxy));
        }
        Thread.sleep(5);
      }
      int bound = (Integer) s3proxy.getMethod("getPort").invoke(proxy);
      return new S3ProxyServer(proxy, host, bound);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("S3 needs org.gaul:s3proxy on the class path (the test kit depends on it;"
          + " was it excluded?): " + e.getMessage(), e);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new IllegalStateException("s3proxy failed to start on " + host + ":" + port + ": " + cause, cause);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("this s3proxy version does not offer the API the test kit uses: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting s3proxy", e);
    }
  }

  private static ClassLoader loader() {
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    return context != null ? context : S3ProxyServer.class.getClassLoader();
  }

  /**
   * The endpoint.
   *
   * @return {@code http://host:port}
   */
  public URI endpoint() {
    return URI.create("http://" + host + ":" + port);
  }

  /**
   * The bound port.
   *
   * @return the port
   */
  public int port() {
    return port;
  }

  /** Stops s3proxy. */
  @Override
  public void close() {
    try {
      proxy.getClass().getMethod("stop").invoke(proxy);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("stopping s3proxy failed: " + e, e);
    }
  }
}
