package io.hoist.sdk;

import java.time.Duration;
import java.util.Optional;

/**
 * A per-job override of the queue's retry policy, field by field: an unset field takes the
 * queue's value (and the queue's takes the broker's). The broker checks the values
 * ({@code maxAttempts >= 1}, {@code multiplier >= 1}, {@code jitter} in 0–1) and answers
 * {@link InvalidRequestException} naming the field.
 * <p>Backoff before attempt n+1: {@code min(maxBackoff, initialBackoff × multiplier^(n-1))},
 * shortened by up to the fraction {@code jitter}.
 */
public final class RetryPolicy {
    private final Integer maxAttempts;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Double multiplier;
    private final Double jitter;

    private RetryPolicy(Builder b) {
        this.maxAttempts = b.maxAttempts;
        this.initialBackoff = b.initialBackoff;
        this.maxBackoff = b.maxBackoff;
        this.multiplier = b.multiplier;
        this.jitter = b.jitter;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Deliveries allowed, the first included. */
    public Optional<Integer> maxAttempts() {
        return Optional.ofNullable(maxAttempts);
    }

    public Optional<Duration> initialBackoff() {
        return Optional.ofNullable(initialBackoff);
    }

    public Optional<Duration> maxBackoff() {
        return Optional.ofNullable(maxBackoff);
    }

    public Optional<Double> multiplier() {
        return Optional.ofNullable(multiplier);
    }

    public Optional<Double> jitter() {
        return Optional.ofNullable(jitter);
    }

    @Override
    public String toString() {
        return "RetryPolicy{maxAttempts=" + maxAttempts + ", initialBackoff=" + initialBackoff + ", maxBackoff="
                + maxBackoff + ", multiplier=" + multiplier + ", jitter=" + jitter + "}";
    }

    /** Every field starts unset (take the queue's). */
    public static final class Builder {
        private Integer maxAttempts;
        private Duration initialBackoff;
        private Duration maxBackoff;
        private Double multiplier;
        private Double jitter;

        private Builder() {
        }

        public Builder maxAttempts(int maxAttempts) {
            this.maxAttempts = maxAttempts;
            return this;
        }

        public Builder initialBackoff(Duration initialBackoff) {
            this.initialBackoff = initialBackoff;
            return this;
        }

        public Builder maxBackoff(Duration maxBackoff) {
            this.maxBackoff = maxBackoff;
            return this;
        }

        /** Shorthand for {@code initialBackoff(initial).maxBackoff(max)}. */
        public Builder backoff(Duration initial, Duration max) {
            return initialBackoff(initial).maxBackoff(max);
        }

        public Builder multiplier(double multiplier) {
            this.multiplier = multiplier;
            return this;
        }

        public Builder jitter(double jitter) {
            this.jitter = jitter;
            return this;
        }

        public RetryPolicy build() {
            return new RetryPolicy(this);
        }
    }
}
