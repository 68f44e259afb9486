package io.hoist.broker.engine;

import io.hoist.broker.runtime.EngineObserver;
import io.hoist.broker.runtime.RoundEffects;
import io.hoist.broker.runtime.StoredJobs;
import io.hoist.broker.store.StoredState;
import io.hoist.broker.store.rocksdb.RocksStore;

import java.nio.file.Path;

/**
 * The real engine on the real RocksDB store, run in rounds the way the runtime's engine loop runs
 * them (one command per round here): apply the command, apply a Tick when one is due, commit the
 * round's changes synced. {@link #restart} is a crash: the store is closed and reopened from the
 * same directory and a fresh engine is restored from what it holds.
 */
final class DurableEngine implements AutoCloseable {
    /**
     * Room for one READY job in memory, so that runs lease some from memory and some from the
     * store, several in one pass (read ahead).
     */
    private static final long READY_BUDGET_BYTES = 400;
    private final EngineConfig config;
    private final Path dir;
    private final RoundEffects effects = new RoundEffects(EngineObserver.NONE);
    private RocksStore store;
    private StoredJobs archive;
    private Engine engine;
    private long lastAliveMillis;

    DurableEngine(EngineConfig config, Path dir, long nowMillis) {
        this.config = config;
        this.dir = dir;
        this.store = RocksStore.open(dir);
        start(nowMillis);
    }

    /** One round: the command (if any), then a Tick if one is due, then a synced commit. */
    Outcome round(Command command, long nowMillis) {
        Outcome outcome = command == null ? null : engine.apply(command, nowMillis);
        if (engine.nextDeadline() <= nowMillis) {
            engine.apply(new Command.Tick(), nowMillis);
        }
        if (!effects.changes().isEmpty()) {
            effects.changes().setAliveMillis(nowMillis);
            archive.commit(true, this::readyDepth);
            lastAliveMillis = nowMillis;
        }
        if (!effects.answers().isEmpty()) {
            throw new AssertionError("no lease is ever parked in this test, yet one was answered: " + effects.answers());
        }
        effects.clear();
        return outcome;
    }

    /** A command that must change nothing (GetJob): applied outside any round. */
    Outcome read(Command command, long nowMillis) {
        Outcome outcome = engine.apply(command, nowMillis);
        if (!effects.changes().isEmpty()) {
            throw new AssertionError(command + " wrote to the store: " + effects.changes().jobs().keySet());
        }
        return outcome;
    }

    /**
     * Crash and restart at {@code nowMillis}: everything committed so far is what the new engine
     * sees. Answers what the store held, for checks against the model.
     */
    StoredState restart(long nowMillis) {
        store.close();
        store = RocksStore.open(dir);
        return start(nowMillis);
    }

    /** How many jobs the store holds. */
    long storedJobs() {
        long[] n = {0};
        store.forEachJob(job -> n[0]++);
        return n[0];
    }

    /** The time of the last round that committed something (what the store should say). */
    long lastAliveMillis() {
        return lastAliveMillis;
    }

    private long readyDepth(String queue) {
        return engine.count(queue, JobState.READY);
    }

    Engine engine() {
        return engine;
    }

    private StoredState start(long nowMillis) {
        StoredState state = store.load();
        archive = new StoredJobs(store, effects.changes(), READY_BUDGET_BYTES);
        engine = new Engine(config, effects, archive);
        engine.restore(state.queues(), state.sessions(), state.holds(), state.deliverySeq(), nowMillis,
                state.lastAliveMillis());
        // like EngineLoop.recover: the renewed leases are written back, with the start time
        effects.changes().setAliveMillis(nowMillis);
        archive.commit(true, this::readyDepth);
        effects.changes().clear();
        lastAliveMillis = nowMillis;
        return state;
    }

    @Override
    public void close() {
        store.close();
    }
}
