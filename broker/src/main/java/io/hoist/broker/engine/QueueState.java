package io.hoist.broker.engine;

/**
 * One queue's ready jobs, by priority then FIFO, and its counts per state. Ready entries hold a
 * job's id and ready order; they are checked against the job when polled, so a job that left
 * READY some other way (cancel, purge) needs no search to be removed.
 */
final class QueueState {
    /** Finds the job a ready entry stands for, or null if the entry is stale. */
    interface ReadyJobs {
        /** @param next the entries after this one in the same ring, for an archive that reads ahead */
        Job readyJob(String id, long order, IdRing next);
    }

    private final String name;
    private final IdRing[] ready = new IdRing[JobSpec.MAX_PRIORITY + 1];
    /** SUCCEEDED and CANCELED jobs, each with the time its retention ends, soonest first. */
    private final IdRing succeeded = new IdRing();
    private final IdRing canceled = new IdRing();
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
            ready[p] = new IdRing();
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
        ready[job.spec().priority()].add(job.id(), job.order);
    }

    /** After start-up, which pushed the jobs in the store's order: puts them in ready or retention order. */
    void sortRings() {
        for (IdRing ring : ready) {
            ring.sortByOrder();
        }
        succeeded.sortByOrder();
        canceled.sortByOrder();
    }

    /** The finished jobs in this state (SUCCEEDED or CANCELED), by the time their retention ends. */
    IdRing finished(JobState state) {
        return switch (state) {
            case SUCCEEDED -> succeeded;
            case CANCELED -> canceled;
            default -> throw new IllegalArgumentException("no retention for " + state + " jobs");
        };
    }

    /** Removes and returns the next job to lease: highest priority, then oldest; or null. */
    Job pollReady(ReadyJobs jobs) {
        for (int p = ready.length - 1; p >= 0; p--) {
            IdRing ring = ready[p];
            while (!ring.isEmpty()) {
                String id = ring.headId();
                long order = ring.headOrder();
                ring.removeHead();
                Job job = jobs.readyJob(id, order, ring);
                if (job != null) {
                    return job;
                }
            }
        }
        return null;
    }

    /** Drops stale ready entries once no job of the queue is READY (after a purge, say). */
    void dropReadyEntriesIfNone() {
        if (!hasReady()) {
            for (int p = 0; p < ready.length; p++) {
                ready[p] = new IdRing();
            }
        }
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
