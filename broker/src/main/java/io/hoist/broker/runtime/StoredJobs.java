package io.hoist.broker.runtime;

import io.hoist.broker.engine.Job;
import io.hoist.broker.engine.JobArchive;
import io.hoist.broker.store.ChangeSet;
import io.hoist.broker.store.Store;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The engine's archive: the store as the round's changes will leave it. A job changed in this
 * round is read from the round's change set (not written yet), any other from the store.
 */
public final class StoredJobs implements JobArchive {
    private final Store store;
    private final ChangeSet round;

    public StoredJobs(Store store, ChangeSet round) {
        this.store = store;
        this.round = round;
    }

    @Override
    public Job find(String id) {
        Map<String, Job> pending = round.jobs();
        return pending.containsKey(id) ? pending.get(id) : store.readJob(id);
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
}
