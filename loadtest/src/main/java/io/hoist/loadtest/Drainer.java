package io.hoist.loadtest;

/** Consumes a known number of jobs, acking each, and says how long it took. */
interface Drainer {

    /** Jobs whose ack the broker accepted so far (the progress bar reads it while {@link #run} goes). */
    long acked();

    /** Acks the broker refused (lease lost): zero in a healthy run. */
    long refused();

    /**
     * Runs until {@code jobs} jobs are acked or the timeout passes; returns the nanoseconds from the
     * start to the ack that made the count, or to the timeout.
     */
    long run(long jobs, long timeoutNanos) throws Exception;
}
