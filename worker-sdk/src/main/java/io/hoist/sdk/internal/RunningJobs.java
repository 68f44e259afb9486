package io.hoist.sdk.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The jobs this worker holds, and its slots: a slot is reserved when the lease loop grants the
 * broker a credit for it, taken when a job arrives, and given back once the job's ack or nack has
 * been sent (the job stays held until the broker has answered). The lease loop can so grant more
 * credits while the acks are on their way instead of a round trip later: the broker applies an
 * ack sent before a credit first (one stream, in order), and if it has not yet, it holds the
 * job back, never exceeding the registered concurrency. Keyed by lease token: after a lost
 * session the same job id can be held twice (the lost run still finishing, and a new delivery).
 * Thread-safe.
 */
public final class RunningJobs {
    private final int capacity;
    private final Map<String, RunningJob> byToken = new LinkedHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int reserved; // credits granted to the broker and not used yet; under the lock

    public RunningJobs(int capacity) {
        this.capacity = capacity;
    }

    public int capacity() {
        return capacity;
    }

    /** Blocks until at least one slot is free (neither busy nor reserved); answers how many are. */
    public int awaitFreeSlots() throws InterruptedException {
        lock.lock();
        try {
            int taken;
            while ((taken = busy() + reserved) >= capacity) {
                changed.await();
            }
            return capacity - taken;
        } finally {
            lock.unlock();
        }
    }

    /** Credits for {@code n} free slots were granted: the slots wait for their jobs. */
    public void reserve(int n) {
        lock.lock();
        try {
            reserved += n;
        } finally {
            lock.unlock();
        }
    }

    /** {@code n} granted credits will bring no job (their stream ended): the slots are free again. */
    public void unreserve(int n) {
        lock.lock();
        try {
            reserved = Math.max(0, reserved - n);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Held jobs whose result is not on its way yet. Under the lock. */
    private int busy() {
        int n = 0;
        for (RunningJob j : byToken.values()) {
            if (!j.isResultSent()) {
                n++;
            }
        }
        return n;
    }

    /** The results of these jobs are being sent: their slots are free for the next lease. */
    public void resultsSent(List<RunningJob> sent) {
        lock.lock();
        try {
            sent.forEach(RunningJob::resultSent);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the slot reserved for it: the broker pushes no more jobs than it was granted credits.
     * Wakes no one: a job arriving frees no slot and empties nothing, and a wake-up per job of
     * the lease loop, which then found its slots still taken, was 10 % of a busy worker's CPU.
     */
    public void add(RunningJob job) {
        lock.lock();
        try {
            byToken.put(job.leaseToken(), job);
            reserved = Math.max(0, reserved - 1);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Lets the job go: its ack or nack is settled (or given up). Wakes the waiters only if that
     * frees a slot (its result was never sent: a sent one gave its slot back already) or leaves
     * no job held; a settled ack woke the lease loop for nothing, once per job.
     */
    public void remove(RunningJob job) {
        lock.lock();
        try {
            RunningJob was = byToken.remove(job.leaseToken());
            if (was != null && (!was.isResultSent() || byToken.isEmpty())) {
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether some held job's handler is still running (so more results are coming soon). */
    public boolean anyRunning() {
        lock.lock();
        try {
            for (RunningJob j : byToken.values()) {
                if (!j.isFinished()) {
                    return true;
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** The held (not lost) delivery of this job under this session, or null. */
    public RunningJob find(String jobId, String workerId) {
        lock.lock();
        try {
            for (RunningJob j : byToken.values()) {
                if (j.id().equals(jobId) && j.workerId().equals(workerId) && !j.isLeaseLost()) {
                    return j;
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** The jobs a heartbeat of this session lists: those still held, not known lost. */
    public List<RunningJob> heldBy(String workerId) {
        lock.lock();
        try {
            List<RunningJob> held = new ArrayList<>();
            for (RunningJob j : byToken.values()) {
                if (j.workerId().equals(workerId) && !j.isLeaseLost()) {
                    held.add(j);
                }
            }
            return held;
        } finally {
            lock.unlock();
        }
    }

    public List<RunningJob> all() {
        lock.lock();
        try {
            return new ArrayList<>(byToken.values());
        } finally {
            lock.unlock();
        }
    }

    public int size() {
        lock.lock();
        try {
            return byToken.size();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until no job is held, or the timeout passes; true if none is. */
    public boolean awaitEmpty(Duration timeout) throws InterruptedException {
        long left = timeout.toNanos();
        lock.lock();
        try {
            while (!byToken.isEmpty()) {
                if (left <= 0) {
                    return false;
                }
                left = changed.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}
