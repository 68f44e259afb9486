package io.hoist.sdk;

import java.time.Duration;
import java.util.Objects;

/**
 * Thrown by a handler that knows when to try again (a rate limit's {@code Retry-After}): the job
 * is retried after {@link #delay()} instead of the retry policy's backoff. It still uses up an
 * attempt.
 */
public class RetryAfterException extends RuntimeException {
    private final Duration delay;

    public RetryAfterException(String message, Duration delay) {
        super(message);
        this.delay = Objects.requireNonNull(delay, "delay");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay must not be negative, got " + delay);
        }
    }

    public Duration delay() {
        return delay;
    }
}
