package io.hoist.broker.transport;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.hoist.broker.config.SecurityConfig;
import io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.SSLException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TLS from the PEM files of {@code --tls-cert}, {@code --tls-key} and {@code --tls-client-ca}, for
 * both servers: gRPC (gRPC's own shaded netty, with ALPN h2) and HTTP (netty-all). The files are
 * read and parsed here, at start, so a bad file stops the start with its name.
 */
public final class TlsContexts {
    private TlsContexts() {
    }

    /** gRPC: with a client CA, every client must present a certificate it signed. */
    public static io.grpc.netty.shaded.io.netty.handler.ssl.SslContext grpc(SecurityConfig s) {
        requireReadable(s);
        try {
            var b = GrpcSslContexts.forServer(s.tlsCert().toFile(), s.tlsKey().toFile());
            if (s.mutualTls()) {
                b.trustManager(s.tlsClientCa().toFile())
                        .clientAuth(io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth.REQUIRE);
            }
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw problem(s, e);
        }
    }

    /**
     * HTTP: the same certificate, but no client certificate asked for — load balancers and
     * Kubernetes probes have none; /metrics is guarded by {@code --metrics-auth} instead.
     */
    public static io.netty.handler.ssl.SslContext http(SecurityConfig s) {
        requireReadable(s);
        try {
            return SslContextBuilder.forServer(s.tlsCert().toFile(), s.tlsKey().toFile()).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw problem(s, e);
        }
    }

    private static void requireReadable(SecurityConfig s) {
        for (Path p : new Path[]{s.tlsCert(), s.tlsKey(), s.tlsClientCa()}) {
            if (p != null && !Files.isReadable(p)) {
                throw new IllegalArgumentException("TLS file " + p.toAbsolutePath() + " does not exist or cannot be read");
            }
        }
    }

    private static IllegalArgumentException problem(SecurityConfig s, Exception e) {
        return new IllegalArgumentException("cannot load TLS from --tls-cert " + s.tlsCert() + " and --tls-key "
                + s.tlsKey() + (s.mutualTls() ? " and --tls-client-ca " + s.tlsClientCa() : "")
                + ": " + e.getMessage() + " (PEM files; the key unencrypted PKCS#8, 'BEGIN PRIVATE KEY')", e);
    }
}
