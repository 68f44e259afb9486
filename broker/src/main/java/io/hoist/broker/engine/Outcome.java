package io.hoist.broker.engine;

import java.util.List;

/** What the engine answers to a command. Expected failures are values, not exceptions. */
public sealed interface Outcome {

    /** The command was refused; nothing was changed. */
    record Rejected(Reason reason, String message) implements Outcome {
    }

    enum Reason {
        JOB_NOT_FOUND,
        WORKER_NOT_FOUND,
        LEASE_LOST,
        JOB_FINISHED,
        QUEUE_FULL,
        QUEUE_NOT_FOUND,
        SHUTTING_DOWN
    }

    /** A long-poll lease is parked; its answer comes later through {@link Effects#answer}. */
    record Parked() implements Outcome {
    }

    record Done() implements Outcome {
    }

    record Enqueued(List<EnqueuedJob> jobs) implements Outcome {
    }

    record EnqueuedJob(String jobId, boolean duplicate, JobState state) {
    }

    /** A copy of the job as it is now. */
    record JobFound(Job job) implements Outcome {
    }

    record Canceled(JobState state) implements Outcome {
    }

    record Registered(String workerId) implements Outcome {
    }

    record HeartbeatAnswer(List<String> canceledJobIds, List<String> lostJobIds,
                           boolean shutdownRequested) implements Outcome {
    }

    record Leased(List<LeasedJob> jobs) implements Outcome {
    }

    /** @param job a copy of the job at delivery */
    record LeasedJob(Job job, String leaseToken, long leaseDeadlineMillis) {
    }

    record Acked(List<AckResult> results) implements Outcome {
    }

    record AckResult(String jobId, AckOutcome outcome) {
    }

    enum AckOutcome {
        ACKED,
        LEASE_LOST,
        NOT_FOUND
    }

    record Nacked(JobState state, long runAtMillis) implements Outcome {
    }

    record Deregistered(int released) implements Outcome {
    }

    record Queues(List<QueueInfo> queues) implements Outcome {
    }

    record Queue(QueueInfo queue) implements Outcome {
    }

    /** @param jobs copies; {@code nextPageToken} empty on the last page */
    record Jobs(List<Job> jobs, String nextPageToken) implements Outcome {
    }

    /** How many jobs an operator's command removed, requeued or deleted. */
    record Count(long count) implements Outcome {
    }

    record Workers(List<WorkerInfo> workers) implements Outcome {
    }
}
