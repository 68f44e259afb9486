package io.hoist.sdk;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * What a handler knows about the job it runs, and how it talks back to the worker. One context
 * per delivery; its methods may be called from any thread.
 */
public interface JobContext {

    String id();

    String type();

    String queue();

    /** The payload's bytes (a copy). */
    byte[] payload();

    /**
     * The payload decoded by the worker's codec.
     *
     * @throws NonRetryableException if the bytes cannot be decoded as a {@code type}: the same
     *                               bytes will never decode, so the job should not be retried
     */
    <T> T payload(Class<T> type);

    Map<String, String> headers();

    /** The worker session (worker id) this delivery belongs to. */
    String workerId();

    /** This delivery's number, 1 for the first (attempts charged so far, this one included). */
    int attempt();

    /**
     * The lease token of this delivery. It changes at every delivery, and the broker refuses an
     * ack with an old one (fencing). Store it with the handler's own writes elsewhere
     * (e.g. a {@code WHERE last_token < ?} guard) so that a run whose lease was lost cannot
     * overwrite the work of the run that replaced it.
     */
    String leaseToken();

    /**
     * When the lease runs out unless heartbeats renew it: from the delivery, moved on after each
     * heartbeat the broker accepted (estimated as that heartbeat's time + the lease's length).
     * The worker heartbeats by itself; the lease never outlives the job's {@code timeout}.
     */
    Instant leaseDeadline();

    /** The broker asked to cancel this job; the handler's thread has been interrupted. Stop soon. */
    boolean isCancelled();

    /**
     * The broker says this worker no longer holds the job (its lease expired, or the worker's
     * session was lost): another worker may be running it. The result of this run will not be
     * sent; stop as soon as convenient.
     */
    boolean isLeaseLost();

    /**
     * Sends a heartbeat now (for all of this worker's running jobs) instead of waiting for the
     * next one, e.g. before a step that may take close to the lease duration.
     *
     * @return true if the broker confirmed that this worker still holds the job
     */
    boolean extendLease();

    /** Reports progress: logged at DEBUG, and the next heartbeat is sent now (without blocking). */
    void progress(String message);

    /**
     * Asks that, if this run fails, the job be retried after {@code delay} rather than after the
     * retry policy's backoff. No effect on success.
     */
    void retryAfter(Duration delay);
}
