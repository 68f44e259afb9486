package io.hoist.broker.engine;

import java.util.List;
import java.util.Set;

/**
 * A queue's settings. Every field has presence: null means unset (no limit, or the broker's
 * default). Limits act at once; the defaults (retry, lease duration, timeout) apply to jobs
 * enqueued afterwards.
 *
 * @param rateLimit   leases per second, 0 or null = none; the bucket holds one second's worth
 * @param maxInFlight most jobs LEASED at once, 0 or null = none
 * @param maxDepth    most jobs SCHEDULED + READY + LEASED, 0 or null = none
 */
public record QueueConfig(Boolean paused, Double rateLimit, Integer maxInFlight, Long maxDepth,
                          RetryPolicy.Override retry, Long leaseDurationMillis, Long timeoutMillis) {

    public static final QueueConfig EMPTY = new QueueConfig(null, null, null, null, null, null, null);

    /** The paths an update may name (API.md: UpdateQueue's mask), sub-fields of retry included. */
    public static final Set<String> PATHS = Set.of("paused", "rate_limit", "max_in_flight", "max_depth",
            "retry", "retry.max_attempts", "retry.initial_backoff", "retry.max_backoff", "retry.multiplier",
            "retry.jitter", "lease_duration", "timeout");

    public boolean isPaused() {
        return Boolean.TRUE.equals(paused);
    }

    public double rate() {
        return rateLimit == null ? 0 : rateLimit;
    }

    public int inFlightLimit() {
        return maxInFlight == null ? 0 : maxInFlight;
    }

    public long depthLimit() {
        return maxDepth == null ? 0 : maxDepth;
    }

    /**
     * This config with {@code paths} replaced by {@code patch}'s values (a named but unset field
     * is cleared). Without paths, every field set in the patch replaces this one's.
     */
    public QueueConfig update(QueueConfig patch, List<String> paths) {
        if (paths.isEmpty()) {
            return new QueueConfig(
                    patch.paused != null ? patch.paused : paused,
                    patch.rateLimit != null ? patch.rateLimit : rateLimit,
                    patch.maxInFlight != null ? patch.maxInFlight : maxInFlight,
                    patch.maxDepth != null ? patch.maxDepth : maxDepth,
                    patch.retry != null ? patch.retry : retry,
                    patch.leaseDurationMillis != null ? patch.leaseDurationMillis : leaseDurationMillis,
                    patch.timeoutMillis != null ? patch.timeoutMillis : timeoutMillis);
        }
        QueueConfig c = this;
        for (String path : paths) {
            c = c.replace(path, patch);
        }
        return c;
    }

    private QueueConfig replace(String path, QueueConfig p) {
        RetryPolicy.Override r = retry != null ? retry : RetryPolicy.Override.NONE;
        RetryPolicy.Override pr = p.retry != null ? p.retry : RetryPolicy.Override.NONE;
        return switch (path) {
            case "paused" -> new QueueConfig(p.paused, rateLimit, maxInFlight, maxDepth, retry, leaseDurationMillis, timeoutMillis);
            case "rate_limit" -> new QueueConfig(paused, p.rateLimit, maxInFlight, maxDepth, retry, leaseDurationMillis, timeoutMillis);
            case "max_in_flight" -> new QueueConfig(paused, rateLimit, p.maxInFlight, maxDepth, retry, leaseDurationMillis, timeoutMillis);
            case "max_depth" -> new QueueConfig(paused, rateLimit, maxInFlight, p.maxDepth, retry, leaseDurationMillis, timeoutMillis);
            case "retry" -> withRetry(p.retry);
            case "retry.max_attempts" -> withRetry(new RetryPolicy.Override(pr.maxAttempts(), r.initialBackoffMillis(), r.maxBackoffMillis(), r.multiplier(), r.jitter()));
            case "retry.initial_backoff" -> withRetry(new RetryPolicy.Override(r.maxAttempts(), pr.initialBackoffMillis(), r.maxBackoffMillis(), r.multiplier(), r.jitter()));
            case "retry.max_backoff" -> withRetry(new RetryPolicy.Override(r.maxAttempts(), r.initialBackoffMillis(), pr.maxBackoffMillis(), r.multiplier(), r.jitter()));
            case "retry.multiplier" -> withRetry(new RetryPolicy.Override(r.maxAttempts(), r.initialBackoffMillis(), r.maxBackoffMillis(), pr.multiplier(), r.jitter()));
            case "retry.jitter" -> withRetry(new RetryPolicy.Override(r.maxAttempts(), r.initialBackoffMillis(), r.maxBackoffMillis(), r.multiplier(), pr.jitter()));
            case "lease_duration" -> new QueueConfig(paused, rateLimit, maxInFlight, maxDepth, retry, p.leaseDurationMillis, timeoutMillis);
            case "timeout" -> new QueueConfig(paused, rateLimit, maxInFlight, maxDepth, retry, leaseDurationMillis, p.timeoutMillis);
            default -> throw new IllegalArgumentException("unknown queue config path " + path);
        };
    }

    private QueueConfig withRetry(RetryPolicy.Override r) {
        RetryPolicy.Override kept = r == null || r.equals(RetryPolicy.Override.NONE) ? null : r;
        return new QueueConfig(paused, rateLimit, maxInFlight, maxDepth, kept, leaseDurationMillis, timeoutMillis);
    }
}
