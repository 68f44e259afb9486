package io.hoist.sdk.internal;

import io.hoist.sdk.JobHandler;

import java.util.Map;
import java.util.Set;

/**
 * The handlers of a worker, by job type.
 *
 * @param fallback runs jobs of any other type; null: such jobs are nacked as non-retryable
 */
public record HandlerTable(Map<String, JobHandler> byType, JobHandler fallback) {

    public HandlerTable {
        byType = Map.copyOf(byType);
    }

    /** The handler for this type, or null if there is none. */
    public JobHandler forType(String type) {
        return byType.getOrDefault(type, fallback);
    }

    public Set<String> types() {
        return byType.keySet();
    }
}
