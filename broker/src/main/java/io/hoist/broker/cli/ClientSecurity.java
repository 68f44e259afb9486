package io.hoist.broker.cli;

import io.hoist.sdk.ConnectionSecurity;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The token and TLS options of every command that talks to a broker. */
public final class ClientSecurity {
    @Option(names = "--token", paramLabel = "SECRET", defaultValue = "${env:HOIST_TOKEN}",
            description = "Token secret for a broker with --tokens-file. Prefer the env HOIST_TOKEN: a flag shows in 'ps'.")
    String token;

    @Option(names = "--tls", defaultValue = "${env:HOIST_TLS:-false}",
            description = "Connect with TLS, trusting the JVM's CAs. Env HOIST_TLS.")
    boolean tls;

    @Option(names = "--tls-ca", paramLabel = "FILE", defaultValue = "${env:HOIST_TLS_CA}",
            description = "Connect with TLS, trusting the CA certificate(s) in this PEM file. Env HOIST_TLS_CA.")
    Path tlsCa;

    @Option(names = "--tls-client-cert", paramLabel = "FILE", defaultValue = "${env:HOIST_TLS_CLIENT_CERT}",
            description = "PEM certificate to present to a broker that requires one (--tls-client-ca). Env HOIST_TLS_CLIENT_CERT.")
    Path clientCert;

    @Option(names = "--tls-client-key", paramLabel = "FILE", defaultValue = "${env:HOIST_TLS_CLIENT_KEY}",
            description = "PEM key (unencrypted PKCS#8) of --tls-client-cert. Env HOIST_TLS_CLIENT_KEY.")
    Path clientKey;

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec spec;

    ConnectionSecurity toSecurity() {
        try {
            ConnectionSecurity s = ConnectionSecurity.PLAINTEXT;
            if (tls) {
                s = s.withTls();
            }
            if (tlsCa != null) {
                s = s.withTrustedCa(tlsCa);
            }
            if ((clientCert == null) != (clientKey == null)) {
                throw new IllegalArgumentException("--tls-client-cert and --tls-client-key go together");
            }
            if (clientCert != null) {
                s = s.withClientCertificate(clientCert, clientKey);
            }
            if (token != null && !token.isEmpty()) {
                s = s.withToken(token);
            }
            return s;
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
