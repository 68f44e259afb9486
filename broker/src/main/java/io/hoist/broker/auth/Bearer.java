package io.hoist.broker.auth;

import io.grpc.Metadata;

/** The {@code authorization: Bearer <secret>} header, shared by gRPC metadata and HTTP. */
final class Bearer {
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final String SCHEME = "bearer ";

    private Bearer() {
    }

    /** The secret of a Bearer header value, or null when there is none. */
    static String secret(String header) {
        if (header == null || header.length() <= SCHEME.length()
                || !header.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return null;
        }
        String secret = header.substring(SCHEME.length()).trim();
        return secret.isEmpty() ? null : secret;
    }
}
