package io.hoist.broker.engine;

/**
 * The engine's settings, all durations in milliseconds.
 *
 * @param retentionMillis how long SUCCEEDED and CANCELED jobs stay visible
 * @param maxLeaseWaitMillis a longer long-poll wait counts as this long
 */
public record EngineConfig(long sessionTimeoutMillis, long heartbeatIntervalMillis, long retentionMillis,
                           RetryPolicy defaultRetry, long defaultLeaseDurationMillis,
                           long defaultTimeoutMillis, long maxLeaseWaitMillis) {

    public static final EngineConfig DEFAULTS = new EngineConfig(10_000, 2_000, 300_000,
            RetryPolicy.DEFAULT, 30_000, 1_800_000, 30_000);
}
