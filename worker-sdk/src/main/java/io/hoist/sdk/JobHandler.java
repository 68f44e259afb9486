package io.hoist.sdk;

/**
 * Does one job. Returning normally acks the job (SUCCEEDED). Throwing nacks it with the
 * exception's message: it is retried per its retry policy, or goes to DEAD when its attempts are
 * used up; {@link NonRetryableException} sends it to DEAD at once, {@link RetryAfterException}
 * retries it after the given delay.
 * <p>Delivery is at least once: the same job can run again (after a crash, a lost lease, a
 * broker restart), possibly while an earlier run is still going somewhere. Make handlers
 * idempotent, e.g. keyed by {@link JobContext#id()}, and fence external writes with
 * {@link JobContext#leaseToken()}.
 * <p>Handlers run on the worker's pool, at most {@code concurrency} at once; a cancel from the
 * broker interrupts the handler's thread.
 */
@FunctionalInterface
public interface JobHandler {
    void handle(JobContext ctx) throws Exception;
}
