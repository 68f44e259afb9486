package io.hoist.broker.engine;

/** Why a job went to the dead-letter queue. */
public enum DeadReason {
    NONE,
    ATTEMPTS_EXHAUSTED,
    NON_RETRYABLE,
    LEASE_EXPIRED,
    WORKER_LOST
}
