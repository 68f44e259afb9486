package io.hoist.loadtest;

import com.google.protobuf.ByteString;

import java.util.ArrayList;
import java.util.List;

/**
 * Lease + ack throughput of one queue held at the depth it has: each round drains a fixed number
 * of jobs with raw Lease and Ack calls ({@link RawDrainer}) while a {@link DepthKeeper} enqueues
 * one job for each acked, so the depth stays put and every round does the same work whatever the
 * depth. An unmeasured warm-up round first lets the JIT settle.
 */
final class FixedDepthRounds {

    /** What the rounds measured: jobs/s per measured round, and whether every job was acked. */
    record Rates(List<Double> jobsPerSecond, long acked, long expected, long refused, long toppedUp, long topUpFailed) {

        /** Consumers finishing together may ack a few more than asked: those count too. */
        boolean complete() {
            return acked >= expected && refused == 0 && topUpFailed == 0;
        }

        double median() {
            List<Double> sorted = jobsPerSecond.stream().sorted().toList();
            int n = sorted.size();
            if (n == 0) return Double.NaN;
            return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
        }

        double min() {
            return jobsPerSecond.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
        }

        double max() {
            return jobsPerSecond.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        }
    }

    private final String target;
    private final int consumers;
    private final int inFlight;
    private final ByteString payload;
    private final boolean progress;

    FixedDepthRounds(String target, int consumers, int inFlight, ByteString payload, boolean progress) {
        this.target = target;
        this.consumers = consumers;
        this.inFlight = inFlight;
        this.payload = payload;
        this.progress = progress;
    }

    /** {@code rounds} measured rounds of {@code jobsPerRound} jobs each, after a warm-up of {@code warmupJobs} (0: none). */
    Rates measure(String label, String queue, long warmupJobs, long jobsPerRound, int rounds, long timeoutNanos)
            throws InterruptedException {
        Tally tally = new Tally();
        if (warmupJobs > 0) {
            round(label + " warm-up", queue, warmupJobs, timeoutNanos, tally);
        }
        for (int r = 1; r <= rounds; r++) {
            tally.rates.add(round(label + " " + r + "/" + rounds, queue, jobsPerRound, timeoutNanos, tally));
        }
        return tally.rates();
    }

    /**
     * Rounds on two queues in turn (a, b, a, b, ...): the load of a shared machine drifts over
     * minutes, and taking turns lets the drift hit both sides alike. Each queue first has an
     * unmeasured warm-up round of {@code warmupJobs} (0: none): a queue served another way (from
     * the store rather than from memory) runs code the JIT has not compiled yet, and compiling it
     * in a measured round would charge the compiler's CPU to that side. Returns a's rates, then b's.
     */
    List<Rates> measureInTurn(String labelA, String queueA, String labelB, String queueB, long warmupJobs, long jobsPerRound,
                              int rounds, long timeoutNanos) throws InterruptedException {
        Tally a = new Tally();
        Tally b = new Tally();
        if (warmupJobs > 0) {
            round(labelA + " warm-up", queueA, warmupJobs, timeoutNanos, a);
            round(labelB + " warm-up", queueB, warmupJobs, timeoutNanos, b);
        }
        for (int r = 1; r <= rounds; r++) {
            a.rates.add(round(labelA + " " + r + "/" + rounds, queueA, jobsPerRound, timeoutNanos, a));
            b.rates.add(round(labelB + " " + r + "/" + rounds, queueB, jobsPerRound, timeoutNanos, b));
        }
        return List.of(a.rates(), b.rates());
    }

    /** One round: drains {@code jobs} jobs while a keeper tops the queue up; returns jobs/s and adds the counts to {@code tally}. */
    private double round(String label, String queue, long jobs, long timeoutNanos, Tally tally) throws InterruptedException {
        RawDrainer drainer = new RawDrainer(target, queue, consumers, inFlight);
        long elapsed;
        DepthKeeper keeper = new DepthKeeper(target, queue, payload, drainer::acked);
        try (ProgressBar bar = ProgressBar.start(label, jobs, drainer::acked, progress)) {
            elapsed = drainer.run(jobs, timeoutNanos);
        } finally {
            keeper.close();
        }
        tally.expected += jobs;
        tally.acked += drainer.acked();
        tally.refused += drainer.refused();
        tally.toppedUp += keeper.added();
        tally.topUpFailed += keeper.failed();
        return drainer.acked() / (elapsed / 1e9);
    }

    /** Counts of one side's rounds, warm-up included; rates of the measured rounds only. */
    private static final class Tally {
        final List<Double> rates = new ArrayList<>();
        long acked;
        long expected;
        long refused;
        long toppedUp;
        long topUpFailed;

        Rates rates() {
            return new Rates(List.copyOf(rates), acked, expected, refused, toppedUp, topUpFailed);
        }
    }
}
