package io.hoist.broker.runtime;

import io.hoist.broker.config.ByteSizeFormat;
import io.hoist.broker.engine.Command;
import io.hoist.broker.store.DiskFullException;
import io.hoist.broker.store.DiskSpace;
import io.hoist.broker.store.Store;
import io.hoist.broker.store.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a full disk from costing a stored job, in two steps.
 * <ul>
 *   <li><b>Almost full</b> (below {@code --min-free-disk}): Enqueue is refused whole, before it is
 *       applied; acks, nacks, leases, heartbeats, cancels and deletes go on, so workers can drain.
 *       It ends by itself when space comes back.</li>
 *   <li><b>Full</b> (a write failed for lack of space): RocksDB takes no write until it is
 *       reopened, so every command that would write is refused before it is applied (reads go
 *       on). Once there is room again the store is reopened and the loop's memory rebuilt from
 *       it; a reopen that fails is tried again when free space has grown, or after a while.</li>
 * </ul>
 * Used by the engine thread, except {@link #problem()}, which any thread may call.
 */
final class DiskGuard {
    static final long REOPEN_EVERY_MILLIS = 1_000;
    /** A failed reopen is retried once free space has grown by this much, or after {@link #RETRY_ANYWAY_MILLIS}. */
    static final long REOPEN_GROWTH_BYTES = 1 << 20;
    static final long RETRY_ANYWAY_MILLIS = 30_000;
    /** Not worth reopening on less: opening writes a new log, manifest and an SST of the old log. */
    static final long REOPEN_FLOOR_BYTES = 1 << 20;
    private static final Logger log = LoggerFactory.getLogger(DiskGuard.class);

    private final DiskSpace space;
    private final Store store;
    /** Set while the store refuses writes because the disk was full; what /readyz says. */
    private volatile String full;
    private volatile boolean reloading;
    private long fullSinceMillis;
    private long nextReopenMillis;
    private int failedReopens;
    private long freeAtFailedReopen;
    private long failedReopenMillis;
    private boolean warnedAlmostFull;

    DiskGuard(DiskSpace space, Store store) {
        this.space = space;
        this.store = store;
    }

    /** Why {@code command} must not be applied now, or null. */
    DiskFullException refusal(Command command) {
        if (full != null && writes(command)) {
            return new DiskFullException("not stored: the broker's disk is full and its store takes no writes until"
                    + " space is freed; nothing of this call was stored; retry later");
        }
        if (command instanceof Command.Enqueue) {
            String shortage = space.shortage();
            if (shortage != null) {
                if (!warnedAlmostFull) {
                    log.warn("{}: enqueues are refused until space is freed; acks, nacks and leases go on", shortage);
                    warnedAlmostFull = true;
                }
                return new DiskFullException("not stored: the broker's disk is almost full ("
                        + DiskSpace.mib(space.usableBytes()) + " free, below --min-free-disk "
                        + ByteSizeFormat.format(space.minFreeBytes()) + "); nothing of this call was stored; retry later");
            }
            if (warnedAlmostFull) {
                log.info("disk space is back above --min-free-disk: enqueues are taken again");
                warnedAlmostFull = false;
            }
        }
        return null;
    }

    /** True while the store takes no writes: the loop skips ticks and the round's write. */
    boolean isFull() {
        return full != null;
    }

    /** A write failed; if for lack of space, writes stop until {@link #reopenIfDue} succeeds. */
    void writeFailed(StoreException e, long now) {
        if (!e.isNoSpace() || full != null) {
            return;
        }
        full = "disk full: a write to the store in " + space.dir().toAbsolutePath() + " failed for lack of space ("
                + e.getMessage() + "); writes are refused and the store is reopened once space is freed";
        fullSinceMillis = now;
        nextReopenMillis = now + REOPEN_EVERY_MILLIS;
        failedReopens = 0;
        log.warn("disk full: the store takes no writes; only reads are served until space is freed in {}"
                + " (free now: {} bytes)", space.dir().toAbsolutePath(), space.readNow());
    }

    /** When the loop should next wake to try a reopen, or {@code Long.MAX_VALUE}. */
    long nextReopenMillis() {
        return full == null ? Long.MAX_VALUE : nextReopenMillis;
    }

    /**
     * Reopens the store if it is full, a reopen is due and there is room again, then runs
     * {@code reload} (the loop rebuilds its memory from the store) before writes are taken again.
     *
     * @return true if the store was reopened and reloaded
     */
    boolean reopenIfDue(long now, Runnable reload) {
        if (full == null || now < nextReopenMillis) {
            return false;
        }
        nextReopenMillis = now + REOPEN_EVERY_MILLIS;
        long free = space.readNow();
        if (free < Math.max(space.minFreeBytes(), REOPEN_FLOOR_BYTES)) {
            return false;
        }
        if (failedReopens > 0 && free < freeAtFailedReopen + REOPEN_GROWTH_BYTES
                && now - failedReopenMillis < RETRY_ANYWAY_MILLIS) {
            return false; // the last try failed with as much room: wait for more
        }
        try {
            store.reopen();
        } catch (StoreException e) {
            failedReopens++;
            freeAtFailedReopen = free;
            failedReopenMillis = now;
            log.warn("the store could not be reopened yet ({} tries, {} bytes free): {}", failedReopens, free,
                    e.getMessage());
            return false;
        }
        reloading = true; // not ready until the memory matches the store again
        full = null;
        try {
            reload.run();
        } finally {
            reloading = false;
        }
        log.info("the store takes writes again: reopened after {} ms with {} bytes free", now - fullSinceMillis, free);
        return true;
    }

    /** Null when writes are taken; otherwise why not (full, or almost full). */
    String problem() {
        if (reloading) {
            return "loading the store again after the disk was full";
        }
        String f = full;
        return f != null ? f : space.shortage();
    }

    /** Commands that only read the engine's memory still run on a full disk. */
    private static boolean writes(Command c) {
        return !(c instanceof Command.GetJob || c instanceof Command.ListQueues || c instanceof Command.ListJobs
                || c instanceof Command.ListWorkers || c instanceof Command.Unpark || c instanceof Command.Shutdown);
    }
}
