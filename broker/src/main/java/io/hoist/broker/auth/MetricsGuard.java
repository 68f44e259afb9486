package io.hoist.broker.auth;

import io.hoist.broker.http.MetricsAccess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.util.Optional;

/** {@code --metrics-auth}: {@code /metrics} for a Bearer token with the admin role only. */
public final class MetricsGuard implements MetricsAccess {
    private static final Logger log = LoggerFactory.getLogger(MetricsGuard.class);

    private final Tokens tokens;

    public MetricsGuard(Tokens tokens) {
        this.tokens = tokens;
    }

    @Override
    public Decision check(String authorization, SocketAddress peer) {
        String secret = Bearer.secret(authorization);
        Optional<AccessToken> token = secret == null ? Optional.empty() : tokens.find(secret);
        if (token.isEmpty()) {
            log.warn("auth refused GET /metrics token={} peer={}", secret == null ? "no token" : "unknown token", peer);
            return Decision.UNAUTHENTICATED;
        }
        if (!token.get().has(Role.ADMIN)) {
            log.warn("auth refused GET /metrics token={} peer={} reason=needs admin", token.get().name(), peer);
            return Decision.FORBIDDEN;
        }
        return Decision.ALLOW;
    }
}
