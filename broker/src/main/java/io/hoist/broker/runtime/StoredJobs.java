package io.hoist.broker.runtime;

import io.hoist.broker.engine.Job;
import io.hoist.broker.engine.JobArchive;
import io.hoist.broker.engine.JobState;
import io.hoist.broker.store.ChangeSet;
import io.hoist.broker.store.Store;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.function.ToLongFunction;

/**
 * The engine's archive: the store as the round's changes will leave it. A job changed in this
 * round is read from the round's change set (not written yet), any other from memory if it is a
 * READY job kept there, else from the store.
 *
 * <p>Why READY jobs are kept: a lease's point reads of the records it hands out (two RocksDB gets
 * and a decode per job) were 40 % of the engine thread in a drain, and in a queue that keeps up
 * a job is leased soon after it became READY. So jobs that become READY are kept, as written,
 * while they fit a small budget and their queue has no older READY job left out (see
 * {@link #commit}); a backlog beyond the budget is read from the store as before, and holds no
 * more heap than the budget. A job leaves memory when a round writes it in any other state or
 * deletes it. The kept objects are those the store holds, so a failed write, which rebuilds the
 * engine with a new archive, leaves nothing stale behind.
 */
public final class StoredJobs implements JobArchive {
    /** Heap of a kept job beyond its payload and headers: the object, its spec, id and strings. */
    static final int JOB_OVERHEAD_BYTES = 320;
    /** How many jobs after a lease's first are read with it when it reads the store. */
    static final int READ_AHEAD = 128;

    private final Store store;
    private final ChangeSet round;
    private final long readyBudgetBytes;
    private final Map<String, Job> ready = new HashMap<>();
    private final Map<String, Long> keptPerQueue = new HashMap<>();
    /** Jobs read ahead of the leases that will take them (see {@link #findReady}). */
    private final Map<String, Job> readAhead = new HashMap<>();
    private long readyBytes;

    /** @param readyBudgetBytes the heap READY jobs may take in memory (0: none is kept) */
    public StoredJobs(Store store, ChangeSet round, long readyBudgetBytes) {
        this.store = store;
        this.round = round;
        this.readyBudgetBytes = readyBudgetBytes;
    }

    @Override
    public Job find(String id) {
        Map<String, Job> pending = round.jobs();
        if (pending.containsKey(id)) {
            return pending.get(id);
        }
        Job known = inMemory(id);
        return known != null ? known : store.readJob(id);
    }

    /**
     * A job a lease takes that is not in memory is read from the store together with the next
     * jobs of its queue, in one pass over the store's keys: the head of a backlog that outgrew the
     * budget is drained in that order, and reading each of its records by key cost 40 % of the
     * engine thread. What was read stays until the next such read or until a round writes it.
     */
    @Override
    public Job findReady(String id, IntFunction<List<String>> following) {
        Map<String, Job> pending = round.jobs();
        if (pending.containsKey(id)) {
            return pending.get(id);
        }
        Job known = inMemory(id);
        if (known != null) {
            return known;
        }
        List<String> ids = new ArrayList<>(READ_AHEAD + 1);
        ids.add(id);
        for (String next : following.apply(READ_AHEAD)) {
            if (!pending.containsKey(next) && !ready.containsKey(next)) {
                ids.add(next);
            }
        }
        readAhead.clear();
        store.readJobs(ids, job -> readAhead.put(job.id(), job));
        return readAhead.get(id);
    }

    /** A job kept READY or read ahead, or null. */
    private Job inMemory(String id) {
        Job kept = ready.get(id);
        return kept != null ? kept : readAhead.get(id);
    }

    /**
     * Writes the round's changes to the store, then forgets the jobs it changed and keeps in
     * memory those it left READY, as long as they fit and every older READY job of their queue is
     * kept too: a queue whose backlog outgrew the budget is read from the store until it is
     * drained, rather than keeping its newest jobs, which would be leased last.
     *
     * @param readyDepth how many jobs of a queue are READY once the round is applied
     * @throws io.hoist.broker.store.StoreException if the write failed (memory is then unchanged)
     */
    public void commit(boolean sync, ToLongFunction<String> readyDepth) {
        store.commit(round, sync);
        Map<String, List<Job>> nowReady = new HashMap<>();
        for (Map.Entry<String, Job> e : round.jobs().entrySet()) {
            forget(e.getKey());
            Job job = e.getValue();
            if (job != null && job.state() == JobState.READY) {
                nowReady.computeIfAbsent(job.queue(), q -> new ArrayList<>()).add(job);
            }
        }
        nowReady.forEach((queue, jobs) -> {
            long olderNotKept = readyDepth.applyAsLong(queue) - jobs.size() - keptPerQueue.getOrDefault(queue, 0L);
            for (Job job : jobs) {
                if (olderNotKept > 0 || readyBytes + sizeOf(job) > readyBudgetBytes) {
                    return;
                }
                ready.put(job.id(), job);
                readyBytes += sizeOf(job);
                keptPerQueue.merge(queue, 1L, Long::sum);
            }
        });
    }

    private void forget(String id) {
        readAhead.remove(id);
        Job was = ready.remove(id);
        if (was != null) {
            readyBytes -= sizeOf(was);
            keptPerQueue.merge(was.queue(), -1L, (a, b) -> a + b == 0 ? null : a + b);
        }
    }

    /** How many READY jobs are in memory (for tests). */
    int keptReady() {
        return ready.size();
    }

    @Override
    public void forEachJob(Consumer<Job> action) {
        // as the round stood when the pass began: jobs the action changes are not visited twice
        Set<String> changed = new HashSet<>(round.jobs().keySet());
        List<Job> pending = new ArrayList<>(round.jobs().values());
        store.forEachJob(job -> {
            if (!changed.contains(job.id())) {
                action.accept(job);
            }
        });
        for (Job job : pending) {
            if (job != null) {
                action.accept(job);
            }
        }
    }

    static long sizeOf(Job job) {
        long size = JOB_OVERHEAD_BYTES + job.spec().payload().length;
        for (Map.Entry<String, String> h : job.spec().headers().entrySet()) {
            size += 48 + h.getKey().length() + h.getValue().length();
        }
        return size;
    }
}
