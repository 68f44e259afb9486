package io.hoist.sdk;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * How a client proves who it is and protects the connection: a token (sent as
 * {@code authorization: Bearer <secret>} on every call), TLS trusting the JVM's CAs or a CA PEM
 * file, and a client certificate for brokers that require one ({@code --tls-client-ca}).
 * Immutable. {@link #PLAINTEXT} is the default: no TLS, no token.
 *
 * <p>The builders of {@link HoistClient} and {@link Worker} take these options directly; this
 * value is public so that code making its own channel can use {@link #channelCredentials()} and
 * {@link #callCredentials()}.
 */
public final class ConnectionSecurity {
    public static final ConnectionSecurity PLAINTEXT = new ConnectionSecurity(null, false, null, null, null);
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final String token;
    private final boolean tls;
    private final Path trustedCa;
    private final Path clientCert;
    private final Path clientKey;

    private ConnectionSecurity(String token, boolean tls, Path trustedCa, Path clientCert, Path clientKey) {
        this.token = token;
        this.tls = tls;
        this.trustedCa = trustedCa;
        this.clientCert = clientCert;
        this.clientKey = clientKey;
    }

    /** The secret of a token (from {@code hoist token create}); printable ASCII without spaces. */
    public ConnectionSecurity withToken(String secret) {
        Objects.requireNonNull(secret, "token");
        if (!secret.matches("[\\x21-\\x7e]+")) {
            throw new IllegalArgumentException("a token is printable ASCII without spaces (as 'hoist token create' prints it)");
        }
        return new ConnectionSecurity(secret, tls, trustedCa, clientCert, clientKey);
    }

    /** TLS, trusting the JVM's default CAs (unless {@link #withTrustedCa} names a file). */
    public ConnectionSecurity withTls() {
        return new ConnectionSecurity(token, true, trustedCa, clientCert, clientKey);
    }

    /** TLS, trusting the CA certificates of this PEM file (a private CA, or the broker's self-signed certificate). */
    public ConnectionSecurity withTrustedCa(Path caPem) {
        return new ConnectionSecurity(token, true, certificates(caPem, "trusted CA"), clientCert, clientKey);
    }

    /** TLS, presenting this PEM certificate and unencrypted PKCS#8 PEM key (mutual TLS). */
    public ConnectionSecurity withClientCertificate(Path certPem, Path keyPem) {
        return new ConnectionSecurity(token, true, trustedCa, certificates(certPem, "client certificate"),
                pkcs8Key(keyPem));
    }

    public boolean tls() {
        return tls;
    }

    public boolean hasToken() {
        return token != null;
    }

    /** Plaintext, or TLS with the trust and key material given. */
    public ChannelCredentials channelCredentials() {
        if (!tls) {
            return InsecureChannelCredentials.create();
        }
        TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
        try {
            if (trustedCa != null) {
                b.trustManager(trustedCa.toFile());
            }
            if (clientCert != null) {
                b.keyManager(clientCert.toFile(), clientKey.toFile());
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot load TLS files (" + this + "): " + e.getMessage()
                    + " (PEM files; the key unencrypted PKCS#8, 'BEGIN PRIVATE KEY')", e);
        }
        return b.build();
    }

    /**
     * The token as call credentials, if there is one. It is sent on plaintext channels too (for
     * loopback): beyond loopback use TLS, or anyone on the path can read it.
     */
    public Optional<CallCredentials> callCredentials() {
        return token == null ? Optional.empty() : Optional.of(new Bearer(token));
    }

    private static Path readable(Path p, String what) {
        Objects.requireNonNull(p, what);
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException(what + " file " + p.toAbsolutePath() + " does not exist or cannot be read");
        }
        return p;
    }

    /** Checked now, so that a wrong file fails the builder rather than every call with UNAVAILABLE. */
    private static Path certificates(Path p, String what) {
        readable(p, what);
        try (InputStream in = Files.newInputStream(p)) {
            if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                throw new IllegalArgumentException(what + " file " + p + " holds no PEM certificate");
            }
        } catch (IOException | CertificateException e) {
            throw new IllegalArgumentException(what + " file " + p + " is not a PEM certificate file: " + e.getMessage(), e);
        }
        return p;
    }

    private static Path pkcs8Key(Path p) {
        readable(p, "client key");
        try {
            if (!Files.readString(p, StandardCharsets.US_ASCII).contains("-----BEGIN PRIVATE KEY-----")) {
                throw new IllegalArgumentException("client key file " + p + " is not an unencrypted PKCS#8 PEM key ('BEGIN PRIVATE KEY');"
                        + " convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read client key file " + p + ": " + e, e);
        }
        return p;
    }

    @Override
    public String toString() { // never the token
        return "ConnectionSecurity{tls=" + tls + (trustedCa != null ? ", trustedCa=" + trustedCa : "")
                + (clientCert != null ? ", clientCert=" + clientCert : "") + ", token=" + (token != null ? "set" : "none") + "}";
    }

    private static final class Bearer extends CallCredentials {
        private final String secret;

        Bearer(String secret) {
            this.secret = secret;
        }

        @Override
        public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
            Metadata headers = new Metadata();
            headers.put(AUTHORIZATION, "Bearer " + secret);
            applier.apply(headers);
        }
    }
}
