package io.hoist.sdk;

/** Where a job is in its life (API.md, "Job life"). */
public enum JobState {
    /** Waiting for its {@code run_at}: delayed at enqueue, or backing off after a failure. */
    SCHEDULED,
    /** Waiting for a worker. */
    READY,
    /** Held by a worker under a lease. */
    LEASED,
    SUCCEEDED,
    /** In the dead-letter queue: attempts used up, non-retryable, or its workers kept dying. */
    DEAD,
    CANCELED,
    /** A state this SDK does not know (a newer broker). */
    UNKNOWN;

    /** SUCCEEDED, DEAD or CANCELED. */
    public boolean isFinished() {
        return this == SUCCEEDED || this == DEAD || this == CANCELED;
    }
}
