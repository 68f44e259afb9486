package io.hoist.broker.engine;

import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.Map;

/**
 * One queue's ready jobs, by priority then FIFO, and its counts per state. Ready entries are
 * validated against the job's slot when polled, so a job that left READY some other way (cancel,
 * purge) needs no search to be removed.
 */
final class QueueState {
    private record ReadyEntry(Job job, long slot) {
    }

    private final String name;
    @SuppressWarnings("unchecked")
    private final ArrayDeque<ReadyEntry>[] ready = new ArrayDeque[JobSpec.MAX_PRIORITY + 1];
    private final Map<JobState, Long> counts = new EnumMap<>(JobState.class);

    QueueState(String name) {
        this.name = name;
        for (int p = 0; p < ready.length; p++) {
            ready[p] = new ArrayDeque<>();
        }
        for (JobState s : JobState.values()) {
            counts.put(s, 0L);
        }
    }

    String name() {
        return name;
    }

    /** Appends a job that just became READY behind the others of its priority. */
    void pushReady(Job job) {
        ready[job.spec().priority()].addLast(new ReadyEntry(job, job.slot));
    }

    /** Removes and returns the next job to lease: highest priority, then oldest; or null. */
    Job pollReady() {
        for (int p = ready.length - 1; p >= 0; p--) {
            ArrayDeque<ReadyEntry> deque = ready[p];
            ReadyEntry e;
            while ((e = deque.pollFirst()) != null) {
                if (e.job().state == JobState.READY && e.job().slot == e.slot()) {
                    return e.job();
                }
            }
        }
        return null;
    }

    boolean hasReady() {
        return count(JobState.READY) > 0;
    }

    void counted(JobState from, JobState to) {
        if (from != null) {
            counts.merge(from, -1L, Long::sum);
        }
        if (to != null) {
            counts.merge(to, 1L, Long::sum);
        }
    }

    long count(JobState state) {
        return counts.get(state);
    }
}
