package io.hoist.broker.engine;

import io.hoist.broker.engine.ModelStep.Ack;
import io.hoist.broker.engine.ModelStep.Advance;
import io.hoist.broker.engine.ModelStep.Crash;
import io.hoist.broker.engine.ModelStep.Deregister;
import io.hoist.broker.engine.ModelStep.Enqueue;
import io.hoist.broker.engine.ModelStep.Lease;
import io.hoist.broker.engine.ModelStep.Pick;
import io.hoist.broker.engine.ModelStep.Register;
import io.hoist.broker.engine.ModelStep.Token;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.statistics.StatisticsCollector;
import net.jqwik.api.statistics.StatisticsEntry;
import net.jqwik.api.statistics.StatisticsReport;
import net.jqwik.api.statistics.StatisticsReportFormat;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The model test of STYLE.md "Tests" (2): random sequences of enqueue, register, lease, ack,
 * nack, heartbeat, deregister, cancel, advance-time and crash-restart steps, run against the real
 * engine on a real RocksDB store and against {@link ReferenceModel}; after every step every job,
 * every count and the invariants of the job life are compared ({@link ModelRun}).
 *
 * <p>A counterexample that jqwik finds and shrinks is kept below as an {@code @Example}. The
 * fixed scenarios there now pin paths that must stay checked whatever the generators draw.
 * 120 runs of up to 100 steps take 10-18 s on two shared cores; for a deeper search, raise
 * {@code tries} locally (1,000 runs of up to 150 steps take about 1.5 min).
 */
class EngineModelTest {

    private static final String COVERAGE = "runs that went through";
    /** Paths every run of the property must reach at least once, so the generators keep reaching them. */
    private static final List<String> MUST_COVER = List.of("lease delivered", "ack ACKED", "nack -> SCHEDULED",
            "nack -> DEAD", "backoff over", "LEASE_EXPIRED -> READY", "WORKER_LOST -> READY",
            "deregister released jobs", "cancel -> LEASED", "duplicate enqueue", "crash with leases held");

    @Property(tries = 120, edgeCases = EdgeCasesMode.NONE)
    @StatisticsReport(label = COVERAGE, format = RunCounts.class)
    void engineAndStoreBehaveLikeTheModel(@ForAll("scenarios") List<ModelStep> steps) {
        Set<String> covered = ModelRun.run(steps);
        StatisticsCollector statistics = Statistics.label(COVERAGE);
        covered.forEach(statistics::collect);
        statistics.coverage(coverage -> MUST_COVER.forEach(path -> coverage.check(path).count(n -> n > 0)));
    }

    // ------------------------------------------------------------------ fixed scenarios

    @Example
    void leaseHeldAcrossACrashLongerThanTheSessionTimeout_canStillBeAcked() {
        Set<String> covered = ModelRun.run(List.of(
                new Register(0, 0, 1),
                new Enqueue(List.of(spec(0, 5))),
                new Lease(0, 0, 1),
                new Advance(8_000, true),
                new Crash(15_000),
                new Advance(9_000, true),
                new Ack(-1, List.of(new Pick(0, Token.CURRENT)))));
        assertThat(covered).contains("crash with leases held", "ack ACKED");
    }

    @Example
    void sessionSilentForExactlyTheTimeout_losesItsJobs() {
        Set<String> covered = ModelRun.run(List.of(
                new Register(0, 0, 1),
                new Enqueue(List.of(spec(0, 0))),
                new Lease(0, 0, 1),
                new Advance(10_000, true)));
        assertThat(covered).contains("WORKER_LOST -> READY");
    }

    @Example
    void jobReleasedByDeregister_queuesBehindTheReadyJobsOfItsPriority() {
        Set<String> covered = ModelRun.run(List.of(
                new Enqueue(List.of(spec(1, 3), spec(1, 3))),
                new Register(0, 0, 2),
                new Lease(0, 0, 1),
                new Deregister(0),
                new Register(1, 0, 2),
                new Lease(0, 0, 3)));
        assertThat(covered).contains("deregister released jobs", "lease delivered");
    }

    private static ModelStep.Spec spec(int queue, int priority) {
        return new ModelStep.Spec(queue, priority, -1, 0, -1, 0, -1, 0, 0);
    }

    /** Each path with the number of runs that went through it (a run counts a path once). */
    public static final class RunCounts implements StatisticsReportFormat {
        @Override
        public List<String> formatReport(List<StatisticsEntry> entries) {
            return entries.stream().map(e -> String.format("%-28s %4d runs", e.name(), e.count())).toList();
        }
    }

    // ------------------------------------------------------------------ generators

    @Provide
    Arbitrary<List<ModelStep>> scenarios() {
        return Arbitraries.frequencyOf(
                Tuple.of(16, enqueue()),
                Tuple.of(10, register()),
                Tuple.of(18, lease()),
                Tuple.of(9, ack()),
                Tuple.of(6, nack()),
                Tuple.of(12, heartbeat()),
                Tuple.of(3, deregister()),
                Tuple.of(5, cancel()),
                Tuple.of(14, advance()),
                Tuple.of(4, crash())
        ).list().ofMinSize(1).ofMaxSize(100).withSizeDistribution(RandomDistribution.uniform());
    }

    private static Arbitrary<ModelStep> enqueue() {
        return spec().list().ofMinSize(1).ofMaxSize(2).map(ModelStep.Enqueue::new);
    }

    private static Arbitrary<ModelStep.Spec> spec() {
        Arbitrary<Integer> queue = Arbitraries.integers().between(0, 1);
        Arbitrary<Integer> priority = Arbitraries.oneOf(Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 9));
        Arbitrary<Long> delay = Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.just(-1L)),
                Tuple.of(1, Arbitraries.just(0L)),
                Tuple.of(3, Arbitraries.longs().between(1, 20).map(s -> s * 1_000)),
                Tuple.of(1, Arbitraries.longs().between(1, 3_000)));
        Arbitrary<Integer> maxAttempts = Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.just(0)),
                Tuple.of(3, Arbitraries.integers().between(1, 3)));
        Arbitrary<Integer> uniqueKey = Arbitraries.frequencyOf(
                Tuple.of(7, Arbitraries.just(-1)),
                Tuple.of(3, Arbitraries.integers().between(0, 2)));
        Arbitrary<Long> uniqueFor = Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(0L)),
                Tuple.of(1, Arbitraries.longs().between(1, 30).map(s -> s * 1_000)));
        Arbitrary<Integer> jobId = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(-1)),
                Tuple.of(1, Arbitraries.integers().between(0, 3)));
        Arbitrary<Long> lease = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(0L)),
                Tuple.of(2, Arbitraries.longs().between(3, 15).map(s -> s * 1_000)));
        Arbitrary<Long> timeout = Arbitraries.frequencyOf(
                Tuple.of(7, Arbitraries.just(0L)),
                Tuple.of(3, Arbitraries.longs().between(5, 40).map(s -> s * 1_000)));
        return Combinators.combine(List.of(queue.map(Long::valueOf), priority.map(Long::valueOf), delay,
                        maxAttempts.map(Long::valueOf), uniqueKey.map(Long::valueOf), uniqueFor,
                        jobId.map(Long::valueOf), lease, timeout))
                .as(v -> new ModelStep.Spec(v.get(0).intValue(), v.get(1).intValue(), v.get(2), v.get(3).intValue(),
                        v.get(4).intValue(), v.get(5), v.get(6).intValue(), v.get(7), v.get(8)));
    }

    private static Arbitrary<Integer> worker() {
        return Arbitraries.frequencyOf(
                Tuple.of(9, Arbitraries.integers().between(0, 2)),
                Tuple.of(1, Arbitraries.just(3)));
    }

    private static Arbitrary<Integer> sender() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(-1)),
                Tuple.of(1, Arbitraries.integers().between(0, 3)));
    }

    private static Arbitrary<Pick> pick() {
        Arbitrary<Integer> job = Arbitraries.frequencyOf(
                Tuple.of(12, Arbitraries.integers().between(0, 50)),
                Tuple.of(1, Arbitraries.just(-1)));
        Arbitrary<Token> token = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.just(Token.CURRENT)),
                Tuple.of(2, Arbitraries.just(Token.STALE)),
                Tuple.of(1, Arbitraries.just(Token.BOGUS)));
        return Combinators.combine(job, token).as(Pick::new);
    }

    private static Arbitrary<ModelStep> register() {
        return Combinators.combine(Arbitraries.integers().between(0, 2),
                        Arbitraries.of(0, 0, 0, 1, 2, 3), Arbitraries.integers().between(1, 4))
                .as(ModelStep.Register::new);
    }

    private static Arbitrary<ModelStep> lease() {
        return Combinators.combine(worker(), Arbitraries.integers().between(0, 4), Arbitraries.integers().between(1, 3))
                .as(ModelStep.Lease::new);
    }

    private static Arbitrary<ModelStep> ack() {
        return Combinators.combine(sender(), pick().list().ofMinSize(1).ofMaxSize(2)).as(ModelStep.Ack::new);
    }

    private static Arbitrary<ModelStep> nack() {
        Arbitrary<Long> retryAfter = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.just(-1L)),
                Tuple.of(1, Arbitraries.just(0L)),
                Tuple.of(1, Arbitraries.longs().between(0, 5).map(s -> s * 1_000)));
        return Combinators.combine(sender(), pick(), Arbitraries.of(false, false, true), retryAfter)
                .as(ModelStep.Nack::new);
    }

    private static Arbitrary<ModelStep> heartbeat() {
        Arbitrary<Integer> omit = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(0)),
                Tuple.of(1, Arbitraries.integers().between(1, 7)));
        Arbitrary<Integer> extra = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(-1)),
                Tuple.of(1, Arbitraries.integers().between(0, 50)));
        return Combinators.combine(worker(), omit, extra).as(ModelStep.Heartbeat::new);
    }

    private static Arbitrary<ModelStep> deregister() {
        return worker().map(ModelStep.Deregister::new);
    }

    private static Arbitrary<ModelStep> cancel() {
        return Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.integers().between(0, 50)),
                Tuple.of(1, Arbitraries.just(-1))).map(ModelStep.Cancel::new);
    }

    private static Arbitrary<ModelStep> advance() {
        Arbitrary<Long> millis = Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.longs().between(0, 15).map(s -> s * 1_000)), // hits deadlines exactly
                Tuple.of(1, Arbitraries.longs().between(0, 3_000)),
                Tuple.of(1, Arbitraries.longs().between(0, 15_000)));
        return Combinators.combine(millis, Arbitraries.of(true, true, true, true, true, false))
                .as(ModelStep.Advance::new);
    }

    private static Arbitrary<ModelStep> crash() {
        return Arbitraries.oneOf(Arbitraries.just(0L), Arbitraries.longs().between(0, 15_000))
                .map(ModelStep.Crash::new);
    }
}
