package io.hoist.broker.engine;

import java.util.List;

/**
 * One step of a generated scenario. Steps name workers, queues and jobs by small indexes that
 * {@link ModelRun} resolves against the model's current state, so every step stays meaningful
 * when jqwik shrinks the steps before it away. Workers: 0-2 are {@code w0}-{@code w2}, 3 is a
 * worker that never registers. Queue sets: 0 = none given (the registered ones), 1 = q0,
 * 2 = q1, 3 = q0 then q1, 4 = q1 then q0.
 */
sealed interface ModelStep {

    /** @param specs one or two specs, enqueued as one batch */
    record Enqueue(List<Spec> specs) implements ModelStep {
    }

    /**
     * A job spec; -1 or 0 means "unset" where noted.
     *
     * @param delayMillis     -1 = no delay given
     * @param maxAttempts     0 = the default policy's
     * @param uniqueKey       -1 = none, else key {@code k<n>}
     * @param jobId           -1 = a generated id, else client id {@code c<n>}
     * @param leaseMillis     0 = the default lease duration
     * @param timeoutMillis   0 = the default timeout
     */
    record Spec(int queue, int priority, long delayMillis, int maxAttempts, int uniqueKey,
                long uniqueForMillis, int jobId, long leaseMillis, long timeoutMillis) {
    }

    /** Registers a worker that has no live session (a live one is left alone). */
    record Register(int worker, int concurrency, int queues) implements ModelStep {
    }

    record Lease(int worker, int queues, int maxJobs) implements ModelStep {
    }

    /** @param sender -1 = the holder of the first job (else w0) */
    record Ack(int sender, List<Pick> items) implements ModelStep {
    }

    /**
     * @param sender           -1 = the holder of the job (else w0)
     * @param retryAfterMillis -1 = the policy's backoff
     */
    record Nack(int sender, Pick pick, boolean nonRetryable, long retryAfterMillis) implements ModelStep {
    }

    /**
     * Lists the jobs the worker holds, leaving out those whose bit is set in {@code omitMask}
     * (by position in id order), plus one more job by index unless {@code extraJob} is -1.
     */
    record Heartbeat(int worker, int omitMask, int extraJob) implements ModelStep {
    }

    record Deregister(int worker) implements ModelStep {
    }

    /** @param job index among the known jobs, -1 = an unknown id */
    record Cancel(int job) implements ModelStep {
    }

    /** @param tick false: no round runs now, the next command's round finds the work overdue */
    record Advance(long millis, boolean tick) implements ModelStep {
    }

    /** Close the store, reopen it after {@code downtimeMillis} and restore a fresh engine. */
    record Crash(long downtimeMillis) implements ModelStep {
    }

    /**
     * A job and a token to ack or nack it with. CURRENT: a LEASED job (else any) with its latest
     * token; STALE: an older token of a job delivered more than once (else its latest); BOGUS: a
     * made-up or empty token. {@code job} -1 is an unknown id.
     */
    record Pick(int job, Token token) {
    }

    enum Token { CURRENT, STALE, BOGUS }
}
