package io.hoist.sdk;

/**
 * Hears what a {@link Worker} does with the broker, for metrics, logs or tests. Called on the
 * worker's own threads: return quickly and never block. Every method does nothing by default.
 */
public interface WorkerListener {

    /** What became of a run's result. */
    enum Settlement {
        /** The broker accepted the ack: the job SUCCEEDED. */
        ACKED,
        /**
         * The broker refused the ack: the lease was lost, so this run does not count (fencing); or
         * the Ack was refused for good (a status retrying cannot fix, logged): the job runs again.
         */
        ACK_REFUSED,
        /** The broker accepted the nack: the job is retried later, or DEAD. */
        NACKED,
        NACK_REFUSED,
        /** Not sent: the worker already knew the lease was lost. */
        NOT_SENT
    }

    /** The worker registered, the first time or again after its session was lost. */
    default void registered(String workerId) {
    }

    /** The result of one run was settled with the broker. */
    default void settled(JobContext job, Settlement settlement) {
    }
}
