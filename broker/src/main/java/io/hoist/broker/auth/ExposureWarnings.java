package io.hoist.broker.auth;

import io.hoist.broker.config.SecurityConfig;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * What to tell the operator at start when the broker listens beyond this machine without tokens
 * or without TLS. Loopback without either is the normal development setup and says nothing.
 */
public final class ExposureWarnings {
    private ExposureWarnings() {
    }

    public static List<String> of(String host, SecurityConfig s) {
        if (isLoopback(host)) {
            return List.of();
        }
        List<String> warnings = new ArrayList<>();
        if (!s.tokens()) {
            warnings.add("serving " + host + " WITHOUT AUTHENTICATION: anyone who reaches the gRPC port can enqueue, "
                    + "lease, purge and read jobs. Give --tokens-file (mint tokens with 'hoist token create'; "
                    + "see docs/operations.md, Security), or bind --host 127.0.0.1.");
        }
        if (!s.tls()) {
            warnings.add("serving " + host + " WITHOUT TLS: tokens and payloads cross the network in clear text. "
                    + "Give --tls-cert and --tls-key (PEM files), and --tls-client-ca to require client certificates.");
        }
        return warnings;
    }

    static boolean isLoopback(String host) {
        try {
            InetAddress[] all = InetAddress.getAllByName(host);
            for (InetAddress a : all) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return all.length > 0;
        } catch (UnknownHostException e) {
            return false; // the bind will fail and say why
        }
    }
}
