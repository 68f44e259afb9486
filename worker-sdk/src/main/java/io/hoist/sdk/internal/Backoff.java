package io.hoist.sdk.internal;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff, capped, with jitter that only shortens (as the broker's retry policy):
 * before retry n (1-based) wait {@code min(max, initial × multiplier^(n-1)) × (1 − jitter × r)},
 * r uniform in [0, 1). Immutable; the random source is injected so tests can fix it.
 */
public final class Backoff {
    private final Duration initial;
    private final Duration max;
    private final double multiplier;
    private final double jitter;
    private final DoubleSupplier random;

    public Backoff(Duration initial, Duration max, double multiplier, double jitter, DoubleSupplier random) {
        if (initial.isNegative() || initial.isZero()) {
            throw new IllegalArgumentException("initial backoff must be positive, got " + initial);
        }
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("max backoff " + max + " is shorter than the initial " + initial);
        }
        if (multiplier < 1.0) {
            throw new IllegalArgumentException("multiplier must be >= 1, got " + multiplier);
        }
        if (jitter < 0.0 || jitter > 1.0) {
            throw new IllegalArgumentException("jitter must be 0-1, got " + jitter);
        }
        this.initial = initial;
        this.max = max;
        this.multiplier = multiplier;
        this.jitter = jitter;
        this.random = Objects.requireNonNull(random, "random");
    }

    /** Doubling from {@code initial} to {@code max}, shortened by up to half at random. */
    public static Backoff of(Duration initial, Duration max) {
        return new Backoff(initial, max, 2.0, 0.5, () -> ThreadLocalRandom.current().nextDouble());
    }

    /** The wait before retry {@code retry} (1 = the first retry). */
    public Duration delay(int retry) {
        if (retry < 1) {
            throw new IllegalArgumentException("retry counts from 1, got " + retry);
        }
        double capMillis = max.toMillis();
        double base = Math.min(capMillis, initial.toMillis() * Math.pow(multiplier, retry - 1));
        return Duration.ofMillis(Math.round(base * (1.0 - jitter * random.getAsDouble())));
    }

    /** Sleeps {@link #delay(int)}; an interrupt ends it with InterruptedException. */
    public void sleep(int retry) throws InterruptedException {
        Thread.sleep(delay(retry).toMillis());
    }

    public Duration initial() {
        return initial;
    }

    public Duration max() {
        return max;
    }
}
