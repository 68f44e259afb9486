package io.hoist.broker.store;

import io.hoist.broker.engine.Job;
import io.hoist.broker.engine.Session;
import io.hoist.broker.engine.UniqueHold;

import java.util.List;

/**
 * What a store holds.
 *
 * @param lastAliveMillis the time of the last committed round (0 for a new store)
 */
public record StoredState(List<Job> jobs, List<Session> sessions, List<UniqueHold> holds,
                          long deliverySeq, long lastAliveMillis) {
}
