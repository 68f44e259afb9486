package io.hoist.broker.engine;

import java.util.ArrayDeque;

/**
 * One queue's ready jobs, by priority then FIFO, and its counts per state. Ready entries are
 * validated against the job's slot when polled, so a job that left READY some other way (cancel,
 * purge) needs no search to be removed.
 */
final class QueueState {
    private record ReadyEntry(Job job, long slot) {
    }

    private final String name;
    @SuppressWarnings("unchecked")
    private final ArrayDeque<ReadyEntry>[] ready = new ArrayDeque[JobSpec.MAX_PRIORITY + 1];
    /** Jobs per state, indexed by {@link JobState#ordinal()}. */
    private final long[] counts = new long[JobState.values().length];
    private QueueConfig config = QueueConfig.EMPTY;
    /** The rate limit's bucket: it holds one second's worth and starts full. */
    private double tokens;
    /** Since start, for rates: enqueued, leased, acked, dead. */
    long enqueuedTotal;
    long leasedTotal;
    long ackedTotal;
    long deadTotal;
    private long refilledAtMillis;

    QueueState(String name) {
        this.name = name;
        for (int p = 0; p < ready.length; p++) {
            ready[p] = new ArrayDeque<>();
        }
    }

    String name() {
        return name;
    }

    QueueConfig config() {
        return config;
    }

    void configure(QueueConfig next, long nowMillis) {
        if (next.rate() != config.rate()) {
            tokens = bucketSize(next.rate());
            refilledAtMillis = nowMillis;
        }
        config = next;
    }

    /**
     * How many jobs this queue may hand out now, at most {@code wanted}: none while paused, and
     * no more than its in-flight limit and its rate limit's bucket allow.
     */
    int leasable(int wanted, long nowMillis) {
        if (config.isPaused()) {
            return 0;
        }
        int n = wanted;
        if (config.inFlightLimit() > 0) {
            n = (int) Math.min(n, Math.max(0, config.inFlightLimit() - count(JobState.LEASED)));
        }
        if (config.rate() > 0) {
            refill(nowMillis);
            n = (int) Math.min(n, Math.floor(tokens));
        }
        return n;
    }

    /** Takes one token for a lease handed out. */
    void leased() {
        if (config.rate() > 0) {
            tokens -= 1;
        }
    }

    /** When a token will next be there for a queue whose bucket is empty, or Long.MAX_VALUE. */
    long nextTokenAtMillis() {
        if (config.rate() <= 0 || tokens >= 1 || config.isPaused() || !hasReady()) {
            return Long.MAX_VALUE;
        }
        double wait = Math.ceil((1 - tokens) * 1000 / config.rate());
        return wait >= Long.MAX_VALUE - refilledAtMillis ? Long.MAX_VALUE : refilledAtMillis + (long) wait;
    }

    private void refill(long nowMillis) {
        if (nowMillis > refilledAtMillis) {
            tokens = Math.min(bucketSize(config.rate()), tokens + (nowMillis - refilledAtMillis) * config.rate() / 1000);
            refilledAtMillis = nowMillis;
        }
    }

    /** One second's worth, and at least one token, so that a rate below 1/s still leases. */
    private static double bucketSize(double rate) {
        return Math.max(1, rate);
    }

    /** SCHEDULED + READY + LEASED: what max_depth counts. */
    long depth() {
        return count(JobState.SCHEDULED) + count(JobState.READY) + count(JobState.LEASED);
    }

    /** Appends a job that just became READY behind the others of its priority. */
    void pushReady(Job job) {
        ready[job.spec().priority()].addLast(new ReadyEntry(job, job.slot));
    }

    /** Removes and returns the next job to lease: highest priority, then oldest; or null. */
    Job pollReady() {
        for (int p = ready.length - 1; p >= 0; p--) {
            ArrayDeque<ReadyEntry> deque = ready[p];
            ReadyEntry e;
            while ((e = deque.pollFirst()) != null) {
                if (e.job().state == JobState.READY && e.job().slot == e.slot()) {
                    return e.job();
                }
            }
        }
        return null;
    }

    boolean hasReady() {
        return count(JobState.READY) > 0;
    }

    void counted(JobState from, JobState to) {
        if (from != null) {
            counts[from.ordinal()]--;
        }
        if (to != null) {
            counts[to.ordinal()]++;
        }
    }

    long count(JobState state) {
        return counts[state.ordinal()];
    }
}
