package io.hoist.sdk;

/**
 * Thrown by a handler for a failure that retrying cannot fix (bad input, a permanent refusal):
 * the job goes to DEAD at once (dead reason NON_RETRYABLE) instead of being retried.
 */
public class NonRetryableException extends RuntimeException {
    public NonRetryableException(String message) {
        super(message);
    }

    public NonRetryableException(String message, Throwable cause) {
        super(message, cause);
    }
}
