package io.hoist.broker.engine;

/** Things that happen to jobs, reported for metrics through {@link Effects#observed}. */
public enum JobEvent {
    ENQUEUED,
    /** millis: how long it waited READY (ready → leased). */
    LEASED,
    /** millis: how long it ran (leased → acked). */
    ACKED,
    NACKED,
    /** Back for another attempt: after a nack's backoff or a lost lease. */
    RETRIED,
    DEAD,
    LEASE_EXPIRED
}
