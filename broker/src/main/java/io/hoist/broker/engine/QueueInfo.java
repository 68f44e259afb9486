package io.hoist.broker.engine;

/**
 * A queue's counts and settings at one moment. The totals count since the broker started (they
 * are not stored): sample twice for a rate.
 */
public record QueueInfo(String name, long ready, long scheduled, long leased, long dead, QueueConfig config,
                        long enqueuedTotal, long leasedTotal, long ackedTotal, long deadTotal) {
}
