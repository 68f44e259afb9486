package io.hoist.broker.engine;

/**
 * A complete retry policy: how many deliveries a job gets and how long it waits between them.
 *
 * <p>Backoff before attempt n+1 after the n-th failure is
 * {@code min(maxBackoff, initialBackoff * multiplier^(n-1))}, then shortened by up to the fraction
 * {@code jitter}: jitter never lengthens it, so {@code maxBackoffMillis} is a hard cap.
 */
public record RetryPolicy(int maxAttempts, long initialBackoffMillis, long maxBackoffMillis,
                          double multiplier, double jitter) {

    /** The broker's default when neither the job nor its queue says otherwise. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(10, 1_000, 600_000, 2.0, 0.2);

    /**
     * @param failures the failures so far (n >= 1)
     * @param random   uniform in [0, 1), derived from the job and attempt (never drawn here)
     */
    public long backoffMillis(int failures, double random) {
        double base = initialBackoffMillis * Math.pow(multiplier, Math.max(0, failures - 1));
        double capped = Math.min((double) maxBackoffMillis, base);
        return (long) Math.floor(capped * (1.0 - jitter * random));
    }

    /** Field-by-field override of a policy; null fields keep the base's value. */
    public record Override(Integer maxAttempts, Long initialBackoffMillis, Long maxBackoffMillis,
                           Double multiplier, Double jitter) {
        public static final Override NONE = new Override(null, null, null, null, null);

        public RetryPolicy applyTo(RetryPolicy base) {
            if (maxAttempts == null && initialBackoffMillis == null && maxBackoffMillis == null && multiplier == null
                    && jitter == null) {
                return base; // shared by every job without overrides: one object, not one per job
            }
            return new RetryPolicy(
                    maxAttempts != null ? maxAttempts : base.maxAttempts(),
                    initialBackoffMillis != null ? initialBackoffMillis : base.initialBackoffMillis(),
                    maxBackoffMillis != null ? maxBackoffMillis : base.maxBackoffMillis(),
                    multiplier != null ? multiplier : base.multiplier(),
                    jitter != null ? jitter : base.jitter());
        }
    }
}
