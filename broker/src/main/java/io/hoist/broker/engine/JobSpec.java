package io.hoist.broker.engine;

import java.util.Map;

/**
 * What a producer asked for, already validated by the adapter that received it. Optional values
 * are null when unset; strings are empty when unset. The payload array is never written once the
 * spec is made: encoders wrap it without a copy.
 *
 * @param runAtMillis      not before this time (epoch millis), or null
 * @param delayMillis      not before enqueue time plus this, or null (at most one of the two)
 * @param retry            the job's override of its queue's retry policy
 * @param uniqueForMillis  how long the unique key stays held after the job ends
 * @param jobId            client-chosen id, or empty for a generated one
 */
public record JobSpec(String queue, String type, byte[] payload, Map<String, String> headers,
                      int priority, Long runAtMillis, Long delayMillis, RetryPolicy.Override retry,
                      Long leaseDurationMillis, Long timeoutMillis, String uniqueKey,
                      long uniqueForMillis, String jobId) {

    public static final int MAX_PRIORITY = 9;

    public boolean hasUniqueKey() {
        return !uniqueKey.isEmpty();
    }

    public boolean hasJobId() {
        return !jobId.isEmpty();
    }
}
