package io.hoist.broker.http;

import java.net.SocketAddress;

/** Who may read {@code /metrics}: everyone, or (with {@code --metrics-auth}) a request with an admin token. */
@FunctionalInterface
public interface MetricsAccess {
    MetricsAccess OPEN = (authorization, peer) -> Decision.ALLOW;

    enum Decision { ALLOW, UNAUTHENTICATED, FORBIDDEN }

    /** @param authorization the request's {@code Authorization} header, or null */
    Decision check(String authorization, SocketAddress peer);
}
