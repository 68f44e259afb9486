package io.hoist.broker.store;

import io.hoist.broker.engine.Job;
import io.hoist.broker.engine.QueueConfig;
import io.hoist.broker.engine.Session;
import io.hoist.broker.engine.UniqueHold;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The writes of one round, collapsed per key: a job changed five times in a round is encoded and
 * written once, as it is at commit. A null value deletes the key. Jobs created in the round are
 * marked, so that a store may write a job's unchanging spec once, at its creation.
 */
public final class ChangeSet {
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final Set<String> created = new HashSet<>();
    /** Created after a delete of the same id in this round: what the store held of the old job must go. */
    private final Set<String> recreated = new HashSet<>();
    private final Map<String, Session> sessions = new LinkedHashMap<>();
    private final Map<UniqueKey, UniqueHold> holds = new LinkedHashMap<>();
    private final Map<String, QueueConfig> queues = new LinkedHashMap<>();
    private long deliverySeq = -1;
    private long aliveMillis = -1;

    /** A queue and one of its unique keys. */
    public record UniqueKey(String queue, String key) {
    }

    public void putJob(Job job) {
        jobs.put(job.id(), job);
    }

    /** A new job (its id may be that of a job deleted earlier in this round). */
    public void createJob(Job job) {
        if (jobs.containsKey(job.id()) && jobs.get(job.id()) == null) {
            recreated.add(job.id());
        }
        created.add(job.id());
        jobs.put(job.id(), job);
    }

    public void deleteJob(String jobId) {
        jobs.put(jobId, null);
        created.remove(jobId);
        recreated.remove(jobId);
    }

    /** Whether the job was created in this round (and not deleted since). */
    public boolean isCreated(String jobId) {
        return created.contains(jobId);
    }

    /** Whether the job was created in this round after a job of the same id was deleted in it. */
    public boolean isRecreated(String jobId) {
        return recreated.contains(jobId);
    }

    public void putSession(Session session) {
        sessions.put(session.workerId(), session);
    }

    public void deleteSession(String workerId) {
        sessions.put(workerId, null);
    }

    public void putHold(UniqueHold hold) {
        holds.put(new UniqueKey(hold.queue(), hold.key()), hold);
    }

    public void deleteHold(String queue, String key) {
        holds.put(new UniqueKey(queue, key), null);
    }

    public void putQueue(String name, QueueConfig config) {
        queues.put(name, config);
    }

    public void setDeliverySeq(long seq) {
        deliverySeq = seq;
    }

    /** The round's time, kept so that a restart knows how long the broker was down. */
    public void setAliveMillis(long nowMillis) {
        aliveMillis = nowMillis;
    }

    public Map<String, Job> jobs() { return jobs; }
    public Map<String, Session> sessions() { return sessions; }
    public Map<UniqueKey, UniqueHold> holds() { return holds; }
    public Map<String, QueueConfig> queues() { return queues; }
    /** -1 when unchanged. */
    public long deliverySeq() { return deliverySeq; }
    /** -1 when unset. */
    public long aliveMillis() { return aliveMillis; }

    public boolean isEmpty() {
        return jobs.isEmpty() && sessions.isEmpty() && holds.isEmpty() && queues.isEmpty() && deliverySeq < 0;
    }

    public void clear() {
        jobs.clear();
        created.clear();
        recreated.clear();
        sessions.clear();
        holds.clear();
        queues.clear();
        deliverySeq = -1;
        aliveMillis = -1;
    }
}
