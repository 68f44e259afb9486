package io.hoist.sdk;

/** Why a job is DEAD. */
public enum DeadReason {
    /** The job is not dead (or the broker gave no reason). */
    NONE,
    ATTEMPTS_EXHAUSTED,
    /** A handler threw {@link NonRetryableException} (or the worker had no handler for its type). */
    NON_RETRYABLE,
    /** Its last attempt's lease ran out without heartbeats. */
    LEASE_EXPIRED,
    /** Its worker's session expired during its last attempt. */
    WORKER_LOST,
    /** A reason this SDK does not know (a newer broker). */
    UNKNOWN
}
