package io.hoist.broker.store;

import io.hoist.broker.engine.QueueConfig;
import io.hoist.broker.engine.Session;
import io.hoist.broker.engine.UniqueHold;

import java.util.List;
import java.util.Map;

/**
 * What a store holds, but the jobs (which {@link Store#forEachJob} reads one at a time).
 *
 * @param lastAliveMillis the time of the last committed round (0 for a new store)
 */
public record StoredState(Map<String, QueueConfig> queues, List<Session> sessions, List<UniqueHold> holds,
                          long deliverySeq, long lastAliveMillis) {
}
