package io.hoist.broker.engine;

import java.util.List;
import java.util.Map;

/** A live worker session at one moment. */
public record WorkerInfo(String workerId, String name, List<String> queues, int concurrency, int inFlight,
                         long lastHeartbeatMillis, Map<String, String> labels) {
}
