package io.hoist.sdk;

/**
 * Turns payload objects into the bytes a job carries and back. Implementations must be
 * thread-safe: one codec serves every producer call and every handler thread.
 * A {@code byte[]} payload never reaches the codec: it is sent as it is.
 */
public interface PayloadCodec {

    /** @throws IllegalArgumentException if the value cannot be encoded */
    byte[] encode(Object value);

    /** @throws IllegalArgumentException if the bytes cannot be read as a {@code type} */
    <T> T decode(byte[] bytes, Class<T> type);
}
