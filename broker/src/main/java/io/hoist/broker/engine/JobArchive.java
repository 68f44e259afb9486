package io.hoist.broker.engine;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Where the engine finds the jobs it does not hold in memory. The engine keeps only LEASED and
 * SCHEDULED jobs as objects (workers and timers act on them); a READY job is an entry in its
 * queue's {@link IdRing}, a finished one an id in its queue's retention ring until it is deleted,
 * and a DEAD one is counted only. Their records are read back from here when a call names them,
 * which keeps the heap small however deep the backlog.
 *
 * <p>An archive answers as of every change reported so far through {@link Effects}, whether or not
 * the runtime has written it yet: the job a round enqueued can be leased in the same round.
 * It may answer the very object the engine last reported, in later rounds too: so every change
 * the engine makes to a job it found is reported through {@link Effects}, as it must be anyway
 * to be stored.
 */
public interface JobArchive {

    /** The job as last reported through {@link Effects#jobChanged}, or null if there is none (or it was deleted). */
    Job find(String id);

    /**
     * The job a queue's ready entry names, as {@link #find}, when a lease is about to take it.
     * {@code following.apply(n)} gives the ids of up to {@code n} entries the queue holds after
     * it, in the order it will ask for them: an archive that reads its records from disk may read
     * those in the same pass, as a backlog is drained in that order.
     */
    default Job findReady(String id, IntFunction<List<String>> following) {
        return find(id);
    }

    /** Every job, in no particular order; for start-up and operator calls, not for the hot path. */
    void forEachJob(Consumer<Job> action);
}
