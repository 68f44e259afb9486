package io.hoist.broker.runtime;

import io.hoist.broker.engine.Command;
import io.hoist.broker.engine.Engine;
import io.hoist.broker.engine.EngineConfig;
import io.hoist.broker.engine.JobState;
import io.hoist.broker.engine.Outcome;
import io.hoist.broker.store.DiskFullException;
import io.hoist.broker.store.DiskSpace;
import io.hoist.broker.store.Store;
import io.hoist.broker.store.StoreException;
import io.hoist.broker.store.StoredState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs the engine on one thread with group commit. Each round drains the commands waiting in the
 * inbox, applies them in order (and a Tick when one is due), writes everything they changed in
 * one batch, syncs it per the fsync policy, and only then answers the callers: an answer is never
 * sent for a change that is not yet durable. With {@code --fsync always} the sync and the answers
 * are the {@link SyncPipeline}'s, on a thread of their own, while this thread goes on with the next
 * round.
 *
 * <p>If a write fails, the round's callers get the error and the engine is rebuilt from the
 * store, which is the truth: memory never runs ahead of the disk. A full or almost full disk is
 * {@link DiskGuard}'s: it refuses commands before they are applied, and reopens the store.
 */
public final class EngineLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EngineLoop.class);
    private static final int MAX_ROUND = 4096;
    private static final long IDLE_WAIT_MILLIS = 1_000;
    private static final long ALIVE_EVERY_MILLIS = 1_000;
    /**
     * Lease tokens after a recovery start this far past the last stored one. A lease may be
     * answered before its round is synced ({@link #answerDurableLeases}), so the store may not
     * have seen the last tokens handed out, and no token may be handed out twice (fencing): 2^32
     * is more leases than a broker answers between two syncs.
     */
    static final long TOKEN_GAP = 1L << 32;
    /**
     * The heap that READY jobs may take in memory ({@link StoredJobs}): 16 MiB with {@code -Xmx1g}.
     * Small, because a job kept while a backlog waits ahead of it outlives young collections.
     */
    private static final long READY_BUDGET_BYTES = Runtime.getRuntime().maxMemory() / 64;

    private record Submission(Command command, CompletableFuture<Outcome> caller) {
    }

    private final EngineConfig config;
    private final Store store;
    private final Clock clock;
    private final FsyncPolicy fsync;
    private final long fsyncIntervalMillis;
    private final LinkedBlockingQueue<Submission> inbox = new LinkedBlockingQueue<>();
    private final RoundEffects effects;
    private final EngineObserver observer;
    private final DiskGuard disk;
    /** Null unless --fsync always. */
    private final SyncPipeline pipeline;
    /** Callers of long-poll leases that the engine has parked. */
    private final Set<CompletableFuture<Outcome>> parked = new HashSet<>();
    private final Thread thread;
    private Engine engine;
    /** The engine's archive, through which each round is written. */
    private StoredJobs archive;
    private volatile boolean running = true;
    private volatile boolean accepting = true;
    /** Set before the loop's last drain of the inbox: a later submitter drains it itself. */
    private volatile boolean stopped;
    private volatile String storeProblem;
    private long lastSyncMillis;
    private long aliveWrittenMillis;
    private boolean unsynced;
    /** Whether the last recovery stored its token gap: leases may then be answered before their sync. */
    private boolean tokensReserved;

    /** Without a free-space floor: writes stop only when one really fails for lack of space. */
    public EngineLoop(EngineConfig config, Store store, Clock clock, FsyncPolicy fsync, long fsyncIntervalMillis,
                      EngineObserver observer) {
        this(config, store, clock, fsync, fsyncIntervalMillis, observer,
                new DiskSpace(java.nio.file.Path.of("."), 0, () -> Long.MAX_VALUE, clock));
    }

    public EngineLoop(EngineConfig config, Store store, Clock clock, FsyncPolicy fsync, long fsyncIntervalMillis,
                      EngineObserver observer, DiskSpace diskSpace) {
        this.config = config;
        this.disk = new DiskGuard(diskSpace, store);
        this.observer = observer;
        this.effects = new RoundEffects(observer);
        this.store = store;
        this.clock = clock;
        this.fsync = fsync;
        this.fsyncIntervalMillis = fsyncIntervalMillis;
        this.engine = recover();
        this.pipeline = fsync == FsyncPolicy.ALWAYS ? new SyncPipeline(store, observer, engine.nextReadyOrder()) : null;
        this.thread = new Thread(this::run, "hoist-engine");
    }

    public void start() {
        thread.start();
    }

    /** Queues a command; the future completes once its effects are durable (or it failed). */
    public CompletableFuture<Outcome> submit(Command command) {
        return submit(command, new CompletableFuture<>());
    }

    /**
     * Queues a command that answers through {@code caller}; a {@link Command.Lease} must carry the
     * same future as its ticket, so that a parked lease is answered through it later.
     */
    public CompletableFuture<Outcome> submit(Command command, CompletableFuture<Outcome> caller) {
        if (!accepting) {
            caller.complete(new Outcome.Rejected(Outcome.Reason.SHUTTING_DOWN, "the broker is shutting down"));
            return caller;
        }
        inbox.add(new Submission(command, caller));
        if (stopped) {
            failAll(drainInbox(), "the broker is shutting down"); // raced with the loop's last drain
        }
        return caller;
    }

    /** Null while the store takes writes; otherwise what went wrong with the last write, or a full disk. */
    public String storeProblem() {
        String p = storeProblem;
        return p != null ? p : disk.problem();
    }

    public boolean isRunning() {
        return running && thread.isAlive();
    }

    private Engine recover() {
        long started = System.nanoTime();
        long now = clock.millis();
        StoredState state = store.load();
        archive = new StoredJobs(store, effects.changes, READY_BUDGET_BYTES);
        Engine e = new Engine(config, effects, archive);
        long deliverySeq = state.deliverySeq() + TOKEN_GAP;
        e.restore(state.queues(), state.sessions(), state.holds(), deliverySeq, now, state.lastAliveMillis());
        effects.changes.setAliveMillis(now);
        effects.changes.setDeliverySeq(deliverySeq);
        tokensReserved = false;
        try {
            if (!disk.isFull()) { // a full store takes no write: the leases stay adjusted in memory
                archive.commit(true, q -> e.count(q, JobState.READY)); // leases moved on by the downtime, the token gap
                tokensReserved = true;
            }
        } catch (StoreException ex) {
            log.warn("could not write the recovered leases back (they stay adjusted in memory): {}", ex.getMessage());
        }
        effects.clear();
        log.info("recovered jobs={} sessions={} unique_keys={} in {} ms", e.jobCount(),
                state.sessions().size(), state.holds().size(), (System.nanoTime() - started) / 1_000_000);
        return e;
    }

    private void run() {
        List<Submission> round = new ArrayList<>();
        try {
            while (running || !inbox.isEmpty()) {
                Submission first = inbox.poll(waitMillis(), TimeUnit.MILLISECONDS);
                if (first != null) {
                    round.add(first);
                    inbox.drainTo(round, MAX_ROUND - 1);
                }
                runRound(round);
                round.clear();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            log.error("the engine loop stopped on an unexpected error", e);
            throw e;
        } finally {
            running = false;
            stopped = true;
            if (pipeline != null) {
                pipeline.close(); // the rounds written so far are synced and answered
            }
            failAll(round, "the engine stopped");
            failAll(drainInbox(), "the engine stopped");
            for (CompletableFuture<Outcome> f : parked) {
                f.complete(new Outcome.Rejected(Outcome.Reason.SHUTTING_DOWN, "the broker is shutting down"));
            }
        }
    }

    private long waitMillis() {
        long now = clock.millis();
        // on a full disk no Tick runs (it would write): wake for the next reopen instead
        long until = Math.min(disk.isFull() ? disk.nextReopenMillis() : engine.nextDeadline(), now + IDLE_WAIT_MILLIS);
        if (unsynced) {
            until = Math.min(until, lastSyncMillis + fsyncIntervalMillis);
        }
        return Math.max(0, until - now);
    }

    private void runRound(List<Submission> round) {
        long now = clock.millis();
        if (pipeline != null && pipeline.failure() != null) {
            syncFailed(pipeline.failure(), now);
        }
        if (pipeline != null && disk.isFull()) {
            pipeline.awaitIdle(); // no sync may run while the store is reopened
        }
        // after a reopen, a batch whose write failed may be stored whole after all: reload
        disk.reopenIfDue(now, () -> engine = recover());
        List<RoundEffects.Answer> answers = new ArrayList<>(round.size());
        for (Submission s : round) {
            if (s.command() instanceof Command.Shutdown) {
                running = false; // the loop ends once the commands queued before it are done
            }
            DiskFullException refused = disk.refusal(s.command());
            if (refused != null) {
                s.caller().completeExceptionally(refused); // not applied: nothing to undo
                continue;
            }
            Outcome outcome;
            try {
                outcome = engine.apply(s.command(), now);
            } catch (StoreException e) {
                // a job record could not be read (the store is closed after a full disk, or a record
                // is corrupt): that call fails, the others go on. What the command changed before
                // the read is in the round's changes and is written with them.
                log.error("a command could not read the store: {}", e.getMessage());
                s.caller().completeExceptionally(e);
                continue;
            }
            if (outcome instanceof Outcome.Parked) {
                parked.add(s.caller());
            } else {
                answers.add(new RoundEffects.Answer(s.caller(), outcome));
            }
        }
        if (!disk.isFull() && engine.nextDeadline() <= now) {
            try {
                engine.apply(new Command.Tick(), now);
            } catch (StoreException e) {
                log.error("a timer round could not read the store (tried again at the next deadline): {}", e.getMessage());
            }
        }
        // parked leases first: a job reaches its worker before its producer hears it is stored
        answers.addAll(0, effects.answers);
        boolean wrote = false;
        try {
            if (disk.isFull()) {
                effects.changes.clear(); // only reads ran (and a Shutdown's changes, which need no write)
            } else if (!effects.changes.isEmpty()) {
                effects.changes.setAliveMillis(now);
                long started = System.nanoTime();
                archive.commit(false, this::readyDepth); // synced below, or by the pipeline
                observer.roundCommitted(round.size(), System.nanoTime() - started);
                wrote = true;
                unsynced = fsync == FsyncPolicy.INTERVAL;
                aliveWrittenMillis = now;
            } else if (now - aliveWrittenMillis >= ALIVE_EVERY_MILLIS) {
                // a quiet broker still records that it is up, so a restart measures only the downtime
                effects.changes.setAliveMillis(now);
                archive.commit(false, this::readyDepth);
                aliveWrittenMillis = now;
            }
            if (unsynced && !disk.isFull() && now - lastSyncMillis >= fsyncIntervalMillis) {
                long started = System.nanoTime();
                store.sync();
                observer.roundsSynced(System.nanoTime() - started);
                unsynced = false;
                lastSyncMillis = now;
            }
            storeProblem = null;
        } catch (StoreException e) {
            if (pipeline != null) {
                pipeline.awaitIdle(); // the rounds before this one are answered (or failed) first
            }
            disk.writeFailed(e, now);
            storeProblem = e.isNoSpace() ? null : e.getMessage();
            log.error("store write failed, {} callers answered with the error; rebuilding memory from the store",
                    answers.size(), e);
            effects.clear();
            for (RoundEffects.Answer a : answers) {
                parked.remove(a.caller());
                a.caller().completeExceptionally(e);
            }
            for (CompletableFuture<Outcome> f : parked) {
                f.completeExceptionally(e);
            }
            parked.clear();
            engine = recover();
            return;
        }
        effects.clear();
        for (RoundEffects.Answer a : answers) {
            parked.remove(a.caller());
        }
        if (pipeline != null) {
            pipeline.submit(tokensReserved ? answerDurableLeases(answers) : answers, wrote, engine.nextReadyOrder());
            return;
        }
        // durable now, as far as --fsync asks: answer
        for (RoundEffects.Answer a : answers) {
            a.caller().complete(a.outcome());
        }
    }

    /**
     * Answers at once the leases whose jobs were all durably READY before this round, and returns
     * the other answers, which wait for the sync. Why: a lease answer that waited for its round's
     * sync took most of a W2 consumer's cycle, and the lease's own write need not be durable to
     * be safe. If a crash loses it, the job is READY again after the restart and is delivered
     * again (at least once, as always), that delivery is not charged an attempt, and the lost
     * delivery's token, never handed out again ({@link #TOKEN_GAP}), is refused. What must be
     * durable is the job itself: a job whose enqueue (or return to READY) is not yet synced waits.
     */
    private List<RoundEffects.Answer> answerDurableLeases(List<RoundEffects.Answer> answers) {
        List<RoundEffects.Answer> waiting = new ArrayList<>(answers.size());
        for (RoundEffects.Answer a : answers) {
            if (a.outcome() instanceof Outcome.Leased leased && !leased.jobs().isEmpty()
                    && leased.jobs().stream().allMatch(j -> pipeline.isDurable(j.job().order()))) {
                a.caller().complete(a.outcome());
            } else {
                waiting.add(a);
            }
        }
        return waiting;
    }

    /**
     * A sync failed: the pipeline has failed (or fails) the callers of every round written before
     * this one; memory may hold changes the disk lost, so it is rebuilt from the store.
     */
    private void syncFailed(StoreException e, long now) {
        pipeline.awaitIdle();
        disk.writeFailed(e, now);
        storeProblem = e.isNoSpace() ? null : e.getMessage();
        effects.clear();
        for (CompletableFuture<Outcome> f : parked) {
            f.completeExceptionally(e);
        }
        parked.clear();
        engine = recover();
        pipeline.recovered();
    }

    private long readyDepth(String queue) {
        return engine.count(queue, JobState.READY);
    }

    private List<Submission> drainInbox() {
        List<Submission> rest = new ArrayList<>();
        inbox.drainTo(rest);
        return rest;
    }

    private static void failAll(List<Submission> subs, String why) {
        for (Submission s : subs) {
            s.caller().complete(new Outcome.Rejected(Outcome.Reason.SHUTTING_DOWN, why));
        }
    }

    /**
     * Stops taking commands, answers parked leases, finishes the commands already queued and the
     * round in flight, then returns. The store stays open: its owner closes it.
     */
    @Override
    public void close() {
        if (!thread.isAlive()) {
            running = false;
            return;
        }
        accepting = false;
        // the loop applies it (parked leases are answered empty) and then stops
        inbox.add(new Submission(new Command.Shutdown(), new CompletableFuture<>()));
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (unsynced) {
            store.sync();
        }
    }
}
