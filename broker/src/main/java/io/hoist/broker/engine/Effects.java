package io.hoist.broker.engine;

/**
 * What applying commands does outside the engine's memory: the writes that make it durable, and
 * answers to callers that were parked earlier. Called on the engine thread; the runtime writes
 * the round's changes in one batch and sends every answer only after that batch is durable.
 */
public interface Effects {

    /** The job's stored record must become its current state. */
    void jobChanged(Job job);

    /**
     * A new job: its record must be stored. Its spec never changes afterwards, so a store may
     * write that part once, here, and only the job's life (state, attempt, lease...) at later changes.
     */
    default void jobCreated(Job job) {
        jobChanged(job);
    }

    void jobDeleted(String jobId);

    void sessionStored(Session session);

    void sessionDeleted(String workerId);

    void uniqueStored(UniqueHold hold);

    void uniqueDeleted(String queue, String key);

    /** A queue's settings changed. */
    void queueStored(String queue, QueueConfig config);

    /** The last lease token handed out, so tokens never repeat across restarts. */
    void deliverySeqStored(long deliverySeq);

    /** For metrics: something happened to a job in a queue; {@code millis} as {@link JobEvent} says, else 0. */
    default void observed(JobEvent event, String queue, long millis) {
    }

    /** For the operator's log: a rare event worth a line. */
    default void noted(Notice notice) {
    }

    /** A parked lease (by its ticket) is answered. */
    void answer(Object ticket, Outcome outcome);
}
