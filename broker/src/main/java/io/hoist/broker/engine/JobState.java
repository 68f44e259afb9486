package io.hoist.broker.engine;

/** Where a job is in its life (DESIGN.md, "Job life"). */
public enum JobState {
    SCHEDULED,
    READY,
    LEASED,
    SUCCEEDED,
    DEAD,
    CANCELED;

    /** SUCCEEDED, DEAD or CANCELED. */
    public boolean isFinished() {
        return this == SUCCEEDED || this == DEAD || this == CANCELED;
    }
}
