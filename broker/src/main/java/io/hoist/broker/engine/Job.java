package io.hoist.broker.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * A job as the engine holds it. Mutable, and owned by the engine thread: everything handed to
 * other threads is a {@link #copy()}.
 *
 * <p>The retry policy, lease duration and timeout are resolved once, at enqueue, from the job's
 * spec, its queue's defaults and the broker's: later changes to a queue apply to later jobs.
 */
public final class Job {
    public static final int MAX_ERRORS_KEPT = 10;

    private final String id;
    private final JobSpec spec;
    private final long createdAtMillis;
    private final RetryPolicy retry;
    private final long leaseDurationMillis;
    private final long timeoutMillis;

    JobState state;
    int attempt;
    long runAtMillis;
    long finishedAtMillis;
    String lastError = "";
    String workerId = "";
    boolean cancelRequested;
    List<JobError> errors = List.of();
    DeadReason deadReason = DeadReason.NONE;
    String leaseToken = "";
    long leaseDeadlineMillis;
    long attemptDeadlineMillis;
    /** Position in its queue's ready order (FIFO within a priority); survives restarts. */
    long order;
    /** Memory only: index entries carry the slot they were made with, stale ones are skipped. */
    long slot;

    public Job(String id, JobSpec spec, long createdAtMillis, RetryPolicy retry,
               long leaseDurationMillis, long timeoutMillis) {
        this.id = id;
        this.spec = spec;
        this.createdAtMillis = createdAtMillis;
        this.retry = retry;
        this.leaseDurationMillis = leaseDurationMillis;
        this.timeoutMillis = timeoutMillis;
    }

    /** Restores a job as it was stored. */
    public static Job restore(String id, JobSpec spec, long createdAtMillis, RetryPolicy retry,
                              long leaseDurationMillis, long timeoutMillis, Snapshot s) {
        Job job = new Job(id, spec, createdAtMillis, retry, leaseDurationMillis, timeoutMillis);
        job.state = s.state();
        job.attempt = s.attempt();
        job.runAtMillis = s.runAtMillis();
        job.finishedAtMillis = s.finishedAtMillis();
        job.lastError = s.lastError();
        job.workerId = s.workerId();
        job.cancelRequested = s.cancelRequested();
        job.errors = List.copyOf(s.errors());
        job.deadReason = s.deadReason();
        job.leaseToken = s.leaseToken();
        job.leaseDeadlineMillis = s.leaseDeadlineMillis();
        job.attemptDeadlineMillis = s.attemptDeadlineMillis();
        job.order = s.order();
        return job;
    }

    /** The mutable part of a job, as stored and restored. */
    public record Snapshot(JobState state, int attempt, long runAtMillis, long finishedAtMillis,
                           String lastError, String workerId, boolean cancelRequested,
                           List<JobError> errors, DeadReason deadReason, String leaseToken,
                           long leaseDeadlineMillis, long attemptDeadlineMillis, long order) {
    }

    public Snapshot snapshot() {
        return new Snapshot(state, attempt, runAtMillis, finishedAtMillis, lastError, workerId,
                cancelRequested, errors, deadReason, leaseToken, leaseDeadlineMillis,
                attemptDeadlineMillis, order);
    }

    /** A copy that is safe to hand to another thread. */
    public Job copy() {
        Job c = restore(id, spec, createdAtMillis, retry, leaseDurationMillis, timeoutMillis, snapshot());
        c.slot = slot;
        return c;
    }

    void recordError(String message, long nowMillis) {
        List<JobError> next = new ArrayList<>(Math.min(errors.size() + 1, MAX_ERRORS_KEPT));
        int from = Math.max(0, errors.size() + 1 - MAX_ERRORS_KEPT);
        next.addAll(errors.subList(from, errors.size()));
        next.add(new JobError(attempt, message, nowMillis));
        errors = List.copyOf(next);
        lastError = message;
    }

    public String id() { return id; }
    public JobSpec spec() { return spec; }
    public String queue() { return spec.queue(); }
    public long createdAtMillis() { return createdAtMillis; }
    public RetryPolicy retry() { return retry; }
    public long leaseDurationMillis() { return leaseDurationMillis; }
    public long timeoutMillis() { return timeoutMillis; }
    public JobState state() { return state; }
    public int attempt() { return attempt; }
    public long runAtMillis() { return runAtMillis; }
    /** 0 while the job is not finished. */
    public long finishedAtMillis() { return finishedAtMillis; }
    public String lastError() { return lastError; }
    public String workerId() { return workerId; }
    public boolean cancelRequested() { return cancelRequested; }
    public List<JobError> errors() { return errors; }
    public DeadReason deadReason() { return deadReason; }
    public String leaseToken() { return leaseToken; }
    public long leaseDeadlineMillis() { return leaseDeadlineMillis; }
    public long attemptDeadlineMillis() { return attemptDeadlineMillis; }
    public long order() { return order; }

    @Override
    public String toString() {
        return "Job[" + id + " " + state + " queue=" + queue() + " attempt=" + attempt + "]";
    }
}
