package io.hoist.broker.config;

import java.nio.file.Path;

/**
 * Who may connect and how much: TLS from PEM files, the tokens file, and the per-connection
 * limits. Everything off (plaintext, no tokens) is the loopback default; the broker warns when it
 * serves another address that way.
 *
 * @param tlsCert              PEM certificate chain of the broker; null = plaintext
 * @param tlsKey               PEM private key (PKCS#8) of {@code tlsCert}
 * @param tlsClientCa          PEM CA bundle; set = gRPC clients must present a certificate it signed (mTLS)
 * @param tokensFile           YAML file of hashed tokens and their roles; null = no authentication
 * @param metricsAuth          {@code /metrics} answers only a request with an admin token
 * @param maxConcurrentStreams calls in flight on one connection; more wait for a free one
 * @param maxConnections       open gRPC connections; more are closed as soon as they are accepted
 */
public record SecurityConfig(Path tlsCert, Path tlsKey, Path tlsClientCa, Path tokensFile, boolean metricsAuth,
                             int maxConcurrentStreams, int maxConnections) {
    public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 1_000;
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;

    /** Plaintext, no tokens, the default limits. */
    public static final SecurityConfig OPEN = new SecurityConfig(null, null, null, null, false,
            DEFAULT_MAX_CONCURRENT_STREAMS, DEFAULT_MAX_CONNECTIONS);

    public SecurityConfig {
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new IllegalArgumentException("--tls-cert and --tls-key go together: give both (PEM files) or neither");
        }
        if (tlsClientCa != null && tlsCert == null) {
            throw new IllegalArgumentException("--tls-client-ca needs TLS: give --tls-cert and --tls-key too");
        }
        if (metricsAuth && tokensFile == null) {
            throw new IllegalArgumentException("--metrics-auth needs --tokens-file (an admin token opens /metrics)");
        }
        if (maxConcurrentStreams < 1) {
            throw new IllegalArgumentException("--max-concurrent-streams must be at least 1, got " + maxConcurrentStreams);
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("--max-connections must be at least 1, got " + maxConnections);
        }
    }

    public boolean tls() {
        return tlsCert != null;
    }

    public boolean mutualTls() {
        return tlsClientCa != null;
    }

    public boolean tokens() {
        return tokensFile != null;
    }

    public SecurityConfig withTls(Path cert, Path key, Path clientCa) {
        return new SecurityConfig(cert, key, clientCa, tokensFile, metricsAuth, maxConcurrentStreams, maxConnections);
    }

    public SecurityConfig withTokens(Path file, boolean protectMetrics) {
        return new SecurityConfig(tlsCert, tlsKey, tlsClientCa, file, protectMetrics, maxConcurrentStreams, maxConnections);
    }

    public SecurityConfig withLimits(int streams, int connections) {
        return new SecurityConfig(tlsCert, tlsKey, tlsClientCa, tokensFile, metricsAuth, streams, connections);
    }
}
