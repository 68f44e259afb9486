package io.hoist.broker.runtime;

import io.hoist.broker.engine.Command;
import io.hoist.broker.engine.EngineConfig;
import io.hoist.broker.engine.Job;
import io.hoist.broker.engine.JobEvent;
import io.hoist.broker.engine.JobSpec;
import io.hoist.broker.engine.Outcome;
import io.hoist.broker.engine.RetryPolicy;
import io.hoist.broker.store.ChangeSet;
import io.hoist.broker.store.Store;
import io.hoist.broker.store.StoredState;
import io.hoist.broker.store.rocksdb.RocksStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * With --fsync always a lease whose jobs were already durable is answered without waiting for its
 * own round's sync; one that hands out a job not yet synced waits, and is then answered before the
 * enqueue that served it; and a recovery never hands a lease token out twice. A real RocksDB, whose syncs wait for the test's permits.
 */
class EarlyLeaseTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private final Clock clock = Clock.systemUTC();
    private final EventLog observer = new EventLog();
    private GatedStore store;
    private EngineLoop loop;

    @AfterEach
    void tearDown() {
        if (loop != null) {
            store.gate.release(1_000);
            loop.close();
        }
        if (store != null) {
            store.close();
        }
    }

    @Test
    void aLeaseOfDurableJobs_isAnsweredBeforeItsRoundIsSynced() throws Exception {
        start();
        String worker = register();
        enqueue("a");

        CompletableFuture<Outcome> lease = lease(worker); // no permit: its round's sync cannot run
        await().atMost(WAIT).until(lease::isDone);
        assertThat(((Outcome.Leased) lease.get()).jobs()).hasSize(1);
    }

    @Test
    void aLeaseOfAJobWhoseEnqueueIsNotSynced_waitsForTheSync() throws Exception {
        start();
        String worker = register();

        CompletableFuture<Outcome> enqueued = loop.submit(enqueueCommand("b"));
        CompletableFuture<Outcome> lease = lease(worker);
        await().atMost(WAIT).until(() -> observer.roundCommittedAfter(JobEvent.LEASED, 1));
        loop.submit(enqueueCommand("c")); // a later round: once it is committed, the lease's round has answered what it answers at once
        await().atMost(WAIT).until(() -> observer.roundCommittedAfter(JobEvent.ENQUEUED, 2));
        assertThat(lease).isNotDone();
        assertThat(enqueued).isNotDone();

        store.gate.release(10);
        await().atMost(WAIT).until(lease::isDone);
        assertThat(((Outcome.Leased) lease.get()).jobs()).hasSize(1);
    }

    @Test
    void aParkedLeaseThatAnEnqueueServes_isAnsweredBeforeTheEnqueue() throws Exception {
        start();
        String worker = register();
        List<String> answered = new CopyOnWriteArrayList<>();
        CompletableFuture<Outcome> caller = new CompletableFuture<>();
        loop.submit(new Command.Lease(worker, List.of("q"), 1, WAIT.toMillis(), caller), caller)
                .whenComplete((outcome, failure) -> answered.add("lease"));
        loop.submit(enqueueCommand("f")).whenComplete((outcome, failure) -> answered.add("enqueue"));

        store.gate.release(10); // the job is not durable before its round's sync: both answers wait for it
        await().atMost(WAIT).until(() -> answered.size() == 2);
        assertThat(answered).containsExactly("lease", "enqueue"); // the worker has the job before its producer hears of it
        assertThat(((Outcome.Leased) caller.get()).jobs()).hasSize(1);
    }

    @Test
    void afterARestart_leaseTokensStartPastEveryTokenHandedOutBefore() throws Exception {
        start();
        String worker = register();
        enqueue("d");
        long before = Long.parseLong(leasedToken(lease(worker)), 36);
        store.gate.release(10);
        loop.close();
        loop = null;

        start(); // the same store: a lease answered early may have been lost, its token must not come back
        String again = register();
        enqueue("e");
        long after = Long.parseLong(leasedToken(lease(again)), 36);
        assertThat(after - before).isGreaterThan(1L << 32); // more than any run of leases between two syncs
    }

    private void start() {
        if (store == null) {
            store = new GatedStore(RocksStore.open(dir));
        }
        loop = new EngineLoop(EngineConfig.DEFAULTS, store, clock, FsyncPolicy.ALWAYS, 0, observer);
        loop.start();
    }

    private String register() throws Exception {
        CompletableFuture<Outcome> f = loop.submit(new Command.Register("", "w", List.of("q"), 16, Map.of()));
        store.gate.release();
        await().atMost(WAIT).until(f::isDone);
        return ((Outcome.Registered) f.get()).workerId();
    }

    private void enqueue(String id) {
        CompletableFuture<Outcome> f = loop.submit(enqueueCommand(id));
        store.gate.release();
        await().atMost(WAIT).until(f::isDone);
    }

    private static Command enqueueCommand(String id) {
        JobSpec spec = new JobSpec("q", "t", new byte[] {1}, Map.of(), 0, null, null, RetryPolicy.Override.NONE,
                null, null, "", 0, "");
        return new Command.Enqueue(List.of(spec), List.of(id));
    }

    private CompletableFuture<Outcome> lease(String worker) {
        CompletableFuture<Outcome> caller = new CompletableFuture<>();
        return loop.submit(new Command.Lease(worker, List.of("q"), 1, 0, caller), caller);
    }

    private static String leasedToken(CompletableFuture<Outcome> lease) throws Exception {
        await().atMost(WAIT).until(lease::isDone);
        return ((Outcome.Leased) lease.get()).jobs().get(0).leaseToken();
    }

    /** The engine thread's job events and committed rounds, in order. */
    private static final class EventLog implements EngineObserver {
        private final List<String> events = new CopyOnWriteArrayList<>();

        @Override
        public void jobEvent(JobEvent event, String queue, long millis) {
            events.add(event.name());
        }

        @Override
        public void roundCommitted(int commands, long writeNanos) {
            events.add("ROUND");
        }

        /** Whether a round was committed after the {@code n}th event of this kind. */
        boolean roundCommittedAfter(JobEvent event, int n) {
            int seen = 0;
            for (String e : events) {
                if (e.equals(event.name())) {
                    seen++;
                } else if (e.equals("ROUND") && seen >= n) {
                    return true;
                }
            }
            return false;
        }
    }

    /** A real store whose every sync first waits for a permit of {@link #gate}. */
    private static final class GatedStore implements Store {
        final Semaphore gate = new Semaphore(0);
        private final Store store;

        GatedStore(Store store) {
            this.store = store;
        }

        @Override
        public void sync() {
            gate.acquireUninterruptibly();
            store.sync();
        }

        @Override public StoredState load() { return store.load(); }
        @Override public Job readJob(String id) { return store.readJob(id); }
        @Override public void readJobs(java.util.Collection<String> ids, Consumer<Job> action) { store.readJobs(ids, action); }
        @Override public void forEachJob(Consumer<Job> action) { store.forEachJob(action); }
        @Override public void commit(ChangeSet changes, boolean sync) { store.commit(changes, sync); }
        @Override public long sizeBytes() { return store.sizeBytes(); }
        @Override public long figure(String name) { return store.figure(name); }
        @Override public long checkpoint(Path target) { return store.checkpoint(target); }
        @Override public void reopen() { store.reopen(); }
        @Override public void close() { store.close(); }
    }
}
