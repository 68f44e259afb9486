package io.hoist.broker.engine;

/** Rare events an operator wants in the log, reported through {@link Effects#noted}. */
public sealed interface Notice {

    /** A session went silent past its timeout; its jobs went back to READY (or DEAD). */
    record WorkerLost(String workerId, String name, int jobsReleased) implements Notice {
    }

    record JobDead(String jobId, String queue, DeadReason reason, int attempt, String lastError) implements Notice {
    }

    record QueueConfigured(String queue, QueueConfig config) implements Notice {
    }

    /** Operator actions that removed or requeued jobs. */
    record JobsRemoved(String queue, String action, long count) implements Notice {
    }
}
