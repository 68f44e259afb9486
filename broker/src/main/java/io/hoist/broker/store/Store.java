package io.hoist.broker.store;

import io.hoist.broker.engine.Job;

import java.util.Collection;
import java.util.function.Consumer;

/**
 * Where the broker's state is durable: the truth from which the engine's memory is rebuilt.
 * Used by the engine thread only.
 */
public interface Store extends AutoCloseable {

    /** Everything stored but the jobs, read at start-up. */
    StoredState load();

    /** The stored job with this id, or null. */
    Job readJob(String id);

    /**
     * Hands {@code action} the stored jobs among these ids (in key order; absent ids are
     * skipped): for many ids that lie close together in the store, cheaper than a
     * {@link #readJob} each.
     */
    void readJobs(Collection<String> ids, Consumer<Job> action);

    /** Every stored job, in the store's order; at start-up and for operator calls. */
    void forEachJob(Consumer<Job> action);

    /**
     * Writes one round's changes atomically: all of them or none.
     *
     * @param sync whether the write is on disk (fsync) before this returns
     * @throws StoreException if the write failed; nothing of it is then stored
     */
    void commit(ChangeSet changes, boolean sync);

    /** The size of the store's files on disk (an estimate; safe to call from any thread). */
    long sizeBytes();

    /**
     * A figure the store keeps about itself, for metrics (safe to call from any thread), or -1.
     *
     * @param name one of {@code memtable_bytes}, {@code pending_compaction_bytes}, {@code estimated_keys}
     */
    long figure(String name);

    /**
     * Writes a consistent copy of everything committed so far into {@code dir} (which must not
     * exist), while writes go on. Safe to call from any thread.
     *
     * @return the size of the copy in bytes
     */
    long checkpoint(java.nio.file.Path dir);

    /** Makes every write committed so far durable (for {@code --fsync interval}). */
    void sync();

    /**
     * Closes and opens the store again, to take writes after one failed for lack of space.
     * Everything committed before stays; a batch whose write failed is afterwards stored whole or
     * not at all, so the caller reloads its memory from {@link #load()}.
     *
     * @throws StoreException if it cannot open (the store then refuses reads and writes until a
     *                        later reopen works)
     */
    void reopen();

    @Override
    void close();
}
