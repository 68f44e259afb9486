package io.hoist.broker.engine;

/**
 * A unique key held in a queue: while its job is unfinished ({@code untilMillis == Long.MAX_VALUE})
 * and then until {@code untilMillis}, even after the job's record is gone.
 *
 * @param state the job's state when the hold was last written (its final state once finished)
 */
public record UniqueHold(String queue, String key, String jobId, long untilMillis, JobState state) {
    public static final long WHILE_ACTIVE = Long.MAX_VALUE;

    public boolean heldAt(long nowMillis) {
        return untilMillis > nowMillis;
    }
}
