package io.hoist.broker.engine;

/**
 * The random part of a backoff, derived from (job id, attempt) rather than drawn, so that the
 * engine stays deterministic: replaying the same commands gives the same schedule.
 */
final class Jitter {
    private Jitter() {
    }

    /** Uniform in [0, 1) over job ids and attempts. */
    static double fraction(String jobId, int attempt) {
        long z = ((long) jobId.hashCode() << 32) ^ (attempt & 0xffffffffL);
        // SplitMix64's finaliser spreads neighbouring inputs over the whole range
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53;
    }
}
