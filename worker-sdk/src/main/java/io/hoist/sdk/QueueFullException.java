package io.hoist.sdk;

/**
 * {@code RESOURCE_EXHAUSTED QUEUE_FULL}: the queue is at its {@code max_depth}, and stayed so
 * while the client retried with backoff. Nothing of the refused batch was stored.
 */
public class QueueFullException extends HoistException {
    private final int attempts;

    public QueueFullException(BrokerError error, int attempts, Throwable cause) {
        super(error + "; still full after " + attempts + " attempts (retried " + (attempts - 1)
                + " times with backoff)", error, cause);
        this.attempts = attempts;
    }

    /** How many times the enqueue was tried, the first included. */
    public int attempts() {
        return attempts;
    }
}
