package io.hoist.broker.runtime;

import io.hoist.broker.store.Store;
import io.hoist.broker.store.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * For {@code --fsync always}: makes written rounds durable off the engine thread, then answers
 * their callers, so that the engine applies and writes the next round while this one's fsync
 * runs (pipelined group commit). One fsync covers every round written before it began, so under
 * load several rounds share one.
 *
 * <p>Rounds are answered in the order they were written, and a round is answered only after a
 * sync that began after its write (a round that wrote nothing still waits for the rounds before
 * it: its reads may have seen their writes). After a failed sync, every round handed over is
 * failed, unsynced, until the engine has rebuilt its memory from the store and called
 * {@link #recovered()}.
 */
final class SyncPipeline implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SyncPipeline.class);

    /**
     * One round's answers, whether it wrote anything, and the engine's next ready order after it
     * (once it is synced, every READY record of a lower order is durable).
     */
    private record Round(List<RoundEffects.Answer> answers, boolean wrote, long nextReadyOrder) {
    }

    private static final Round STOP = new Round(List.of(), false, 0);

    private final Store store;
    private final EngineObserver observer;
    private final LinkedBlockingQueue<Round> written = new LinkedBlockingQueue<>();
    private final Thread thread;
    /** Rounds handed over; written by the engine thread only. */
    private long submitted;
    private final AtomicLong answered = new AtomicLong();
    private volatile StoreException failure;
    /** Every READY record whose order is below this is durable. */
    private volatile long durableReadyOrder;

    /** @param durableReadyOrder the engine's next ready order when everything it holds is durable */
    SyncPipeline(Store store, EngineObserver observer, long durableReadyOrder) {
        this.store = store;
        this.observer = observer;
        this.durableReadyOrder = durableReadyOrder;
        this.thread = new Thread(this::run, "hoist-sync");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Hands over a round that has been written (unsynced): its callers are answered once it is durable. */
    void submit(List<RoundEffects.Answer> answers, boolean wrote, long nextReadyOrder) {
        if (answers.isEmpty()) {
            return; // nobody waits for it; the next sync covers its write
        }
        submitted++;
        written.add(new Round(answers, wrote, nextReadyOrder));
    }

    /** Whether the READY record of a job with this ready order is known to be durable. */
    boolean isDurable(long readyOrder) {
        return readyOrder < durableReadyOrder;
    }

    /** The error of a failed sync, until {@link #recovered()}; null while syncs succeed. */
    StoreException failure() {
        return failure;
    }

    /** The engine has rebuilt its memory from the store after {@link #failure()}: syncs go on. */
    void recovered() {
        failure = null;
    }

    /** Waits until every round handed over is answered (before a store is reopened or memory rebuilt). */
    void awaitIdle() {
        while (answered.get() < submitted && thread.isAlive()) {
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
        }
    }

    private void run() {
        List<Round> batch = new ArrayList<>();
        boolean stopping = false;
        while (!stopping) {
            try {
                batch.add(written.take());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            written.drainTo(batch);
            stopping = batch.removeIf(round -> round == STOP); // by identity: an empty round equals STOP
            StoreException failed = failure;
            if (failed == null && batch.stream().anyMatch(Round::wrote)) {
                long started = System.nanoTime();
                try {
                    store.sync();
                    observer.roundsSynced(System.nanoTime() - started);
                    durableReadyOrder = Math.max(durableReadyOrder, batch.get(batch.size() - 1).nextReadyOrder());
                } catch (StoreException e) {
                    log.error("fsync of the store failed; the callers of {} rounds get the error and the engine rebuilds"
                            + " its memory from the store", batch.size(), e);
                    failure = failed = e;
                }
            }
            for (Round round : batch) {
                for (RoundEffects.Answer a : round.answers()) {
                    if (failed == null) {
                        a.caller().complete(a.outcome());
                    } else {
                        a.caller().completeExceptionally(failed);
                    }
                }
            }
            answered.addAndGet(batch.size());
            batch.clear();
        }
    }

    /** Answers every round handed over (syncing first), then stops. */
    @Override
    public void close() {
        written.add(STOP);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
