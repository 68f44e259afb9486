package io.hoist.loadtest;

/**
 * When each job of a constant-rate run is meant to be sent. Latency is measured from these
 * intended times, not from when the send really happened: a stalled broker that holds a producer
 * back then shows in the figures instead of hiding them (no coordinated omission).
 */
final class RateSchedule {
    private final long startNanos;
    private final long ratePerSecond;
    private final long jobs;

    RateSchedule(long startNanos, long ratePerSecond, long durationSeconds) {
        if (ratePerSecond <= 0) throw new IllegalArgumentException("rate must be positive, got " + ratePerSecond);
        if (durationSeconds <= 0) throw new IllegalArgumentException("duration must be positive, got " + durationSeconds);
        this.startNanos = startNanos;
        this.ratePerSecond = ratePerSecond;
        this.jobs = ratePerSecond * durationSeconds;
    }

    long jobs() {
        return jobs;
    }

    /** The intended send time of job {@code i} (0-based): computed from the start, so rounding never drifts. */
    long intendedNanos(long i) {
        if (i < 0 || i >= jobs) throw new IndexOutOfBoundsException("job " + i + " of " + jobs);
        return startNanos + (i * 1_000_000_000L) / ratePerSecond;
    }
}
