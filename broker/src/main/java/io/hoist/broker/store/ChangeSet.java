package io.hoist.broker.store;

import io.hoist.broker.engine.Job;
import io.hoist.broker.engine.QueueConfig;
import io.hoist.broker.engine.Session;
import io.hoist.broker.engine.UniqueHold;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The writes of one round, collapsed per key: a job changed five times in a round is encoded and
 * written once, as it is at commit. A null value deletes the key.
 */
public final class ChangeSet {
    private final Map<String, Job> jobs = new LinkedHashMap<>();
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

    public void deleteJob(String jobId) {
        jobs.put(jobId, null);
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
        sessions.clear();
        holds.clear();
        queues.clear();
        deliverySeq = -1;
        aliveMillis = -1;
    }
}
