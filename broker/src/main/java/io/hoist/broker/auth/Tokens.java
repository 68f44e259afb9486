package io.hoist.broker.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The tokens the broker accepts. A presented secret is hashed and compared with every stored hash
 * in constant time, so neither the answer's timing nor the logs reveal a secret or how close a
 * guess came. Immutable and thread-safe.
 */
public final class Tokens {
    /** Secrets start with this, so that secret scanners and people recognise them. */
    static final String SECRET_PREFIX = "hoist_";

    private final List<AccessToken> tokens;

    public Tokens(List<AccessToken> tokens) {
        this.tokens = List.copyOf(tokens);
    }

    public int size() {
        return tokens.size();
    }

    /** The token whose secret this is, if any. */
    public Optional<AccessToken> find(String secret) {
        byte[] presented = sha256(secret);
        AccessToken found = null;
        for (AccessToken t : tokens) { // no early exit: every call costs the same
            if (MessageDigest.isEqual(presented, t.sha256()) && found == null) {
                found = t;
            }
        }
        return Optional.ofNullable(found);
    }

    static byte[] sha256(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    public static String sha256Hex(String secret) {
        return HexFormat.of().formatHex(sha256(secret));
    }

    /** A new secret: 32 random bytes, URL-safe base64, after {@value #SECRET_PREFIX}. */
    public static String newSecret(SecureRandom random) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return SECRET_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
