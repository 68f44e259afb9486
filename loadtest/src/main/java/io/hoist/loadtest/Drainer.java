package io.hoist.loadtest;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Consumes a known number of jobs, acking each, and says how long it took. A job counts once the
 * broker has accepted its ack: subclasses report each answer ({@link #ackAccepted()},
 * {@link #ackRefused()}) from whichever thread hears it.
 */
abstract class Drainer {
    /** The broker's gRPC host:port, the queue drained, the consumers and the jobs each holds at once. */
    protected final String target;
    protected final String queue;
    protected final int consumers;
    protected final int inFlight;
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong reachedAtNanos = new AtomicLong();
    private final CountDownLatch allAcked = new CountDownLatch(1);
    private volatile long jobs = Long.MAX_VALUE;

    protected Drainer(String target, String queue, int consumers, int inFlight) {
        this.target = target;
        this.queue = queue;
        this.consumers = consumers;
        this.inFlight = inFlight;
    }

    /** Jobs whose ack the broker accepted so far (the progress bar reads it while {@link #run} goes). */
    final long acked() {
        return acked.get();
    }

    /** Acks the broker refused (lease lost): zero in a healthy run. */
    final long refused() {
        return refused.get();
    }

    /**
     * Runs until {@code jobs} jobs are acked or the timeout passes; returns the nanoseconds from the
     * start to the ack that made the count, or to the timeout.
     */
    final long run(long jobs, long timeoutNanos) throws InterruptedException {
        this.jobs = jobs;
        long start = System.nanoTime();
        drain(jobs, start + timeoutNanos);
        long reached = reachedAtNanos.get();
        return (reached == 0 ? System.nanoTime() : reached) - start;
    }

    /** Consumes until every job is acked, or {@code deadlineNanos} (System.nanoTime) passes. */
    protected abstract void drain(long jobs, long deadlineNanos) throws InterruptedException;

    protected final void ackAccepted() {
        if (acked.incrementAndGet() == jobs) {
            reachedAtNanos.set(System.nanoTime());
            allAcked.countDown();
        }
    }

    /** A refused ack (lease lost): its job comes back and is acked again later. */
    protected final void ackRefused() {
        refused.incrementAndGet();
    }

    /** Waits until every job is acked, or the deadline; true if they are. */
    protected final boolean awaitAllAcked(long deadlineNanos) throws InterruptedException {
        return allAcked.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** Ends the wait early: a consumer failed. */
    protected final void stopWaiting() {
        allAcked.countDown();
    }
}
