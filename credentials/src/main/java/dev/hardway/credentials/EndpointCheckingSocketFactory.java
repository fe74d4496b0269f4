package dev.hardway.credentials;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * TLS sockets that check the server's certificate names the host connected to, with the JDK's own {@code LDAPS}
 * endpoint identification. UnboundID's {@code HostNameSSLSocketVerifier} is used as well, but it accepts any
 * certificate when the host is a numeric loopback address (seen in its 7.0.5 code); the JDK check has no such
 * exception, so an {@code ldaps://127.0.0.1} whose certificate names another host is refused too.
 */
final class EndpointCheckingSocketFactory extends SSLSocketFactory {
  private final SSLSocketFactory delegate;

  EndpointCheckingSocketFactory(SSLSocketFactory delegate) {
    this.delegate = delegate;
  }

  private static Socket check(Socket socket) {
    if (socket instanceof SSLSocket tls) {
      SSLParameters parameters = tls.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("LDAPS");
      tls.setSSLParameters(parameters);
    }
    return socket;
  }

  @Override
  public String[] getDefaultCipherSuites() {
    return delegate.getDefaultCipherSuites();
  }

  @Override
  public String[] getSupportedCipherSuites() {
    return delegate.getSupportedCipherSuites();
  }

  @Override
  public Socket createSocket() throws IOException {
    return check(delegate.createSocket());
  }

  @Override
  public Socket createSocket(Socket socket, String host, int port, boolean autoClose) throws IOException {
    return check(delegate.createSocket(socket, host, port, autoClose));
  }

  @Override
  public Socket createSocket(String host, int port) throws IOException {
    return check(delegate.createSocket(host, port));
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
    return check(delegate.createSocket(host, port, localHost, localPort));
  }

  @Override
  public Socket createSocket(InetAddress host, int port) throws IOException {
    return check(delegate.createSocket(host, port));
  }

  @Override
  public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
      throws IOException {
    return check(delegate.createSocket(address, port, localAddress, localPort));
  }
}
