package io.hoist.broker.engine;

import io.hoist.broker.store.ChangeSet;

/**
 * Collects the engine's durable changes into a {@link ChangeSet}, as the runtime's round effects
 * do. Parked leases are not used by the model test, so an answer to one is a broken expectation.
 */
final class ChangeSetEffects implements Effects {
    final ChangeSet changes = new ChangeSet();

    @Override
    public void jobChanged(Job job) {
        changes.putJob(job);
    }

    @Override
    public void jobDeleted(String jobId) {
        changes.deleteJob(jobId);
    }

    @Override
    public void sessionStored(Session session) {
        changes.putSession(session);
    }

    @Override
    public void sessionDeleted(String workerId) {
        changes.deleteSession(workerId);
    }

    @Override
    public void uniqueStored(UniqueHold hold) {
        changes.putHold(hold);
    }

    @Override
    public void uniqueDeleted(String queue, String key) {
        changes.deleteHold(queue, key);
    }

    @Override
    public void queueStored(String queue, QueueConfig config) {
        changes.putQueue(queue, config);
    }

    @Override
    public void deliverySeqStored(long deliverySeq) {
        changes.setDeliverySeq(deliverySeq);
    }

    @Override
    public void answer(Object ticket, Outcome outcome) {
        throw new AssertionError("no lease is ever parked in this test, yet one was answered: " + outcome);
    }
}
