package io.hoist.loadtest;

import com.google.protobuf.ByteString;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * W4: a broker process of its own filled with a deep backlog; its heap, RSS and data dir at that
 * depth, lease + ack throughput at that depth against depth 1,000, and its restart time.
 */
@Command(name = "backlog", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"W4: starts a broker (java -jar hoist.jar serve --retention 1s) on a data dir of its own, then:",
                "1. depth 1,000: fills a small queue with --shallow-depth jobs and drains --warmup jobs (not measured), then "
                        + "--rounds rounds of --measure jobs with raw Lease + Ack calls (--consumers x --in-flight), while one "
                        + "job is enqueued for each acked so that the depth stays put;",
                "2. fills a second queue with --jobs jobs (Enqueue batches of --batch from --producers producers);",
                "3. heap (scraped from /metrics, and live after jcmd PID GC.run; a class histogram goes to heap-after-fill.txt "
                        + "beside the log), RSS (/proc/PID/status), data dir size;",
                "4. waits until RocksDB has no compaction pending, drains --warmup jobs from each queue (not measured: leasing "
                        + "from the store runs code the JIT has not compiled yet), then the same rounds on the deep queue, topped "
                        + "up the same way, taking turns with rounds on the small queue: every round does lease + ack + enqueue per job on "
                        + "the same broker process, and only the depth differs. deep_vs_shallow is the deep median over "
                        + "step 1's (the broker without the backlog: depth and heap size both count); "
                        + "deep_vs_shallow_beside_backlog is over the rounds taken in turn (depth alone; the machine's drift "
                        + "hits both sides alike);",
                "5. SIGTERM, then a timed restart: until GET /healthz answers, and until the first Lease returns a job; then the "
                        + "heap again, and heap-after-restart.txt.",
                "The broker's --retention is 1s so that acked jobs leave memory as in a steady state instead of piling up.",
                "Exit code 0: every job stored and acked and the restarted broker leased a job; 1 otherwise (the report says where)."})
final class BacklogCommand implements Callable<Integer> {
    private static final String SHALLOW_QUEUE = "backlog-shallow";
    private static final String DEEP_QUEUE = "backlog-deep";
    private static final String PENDING_COMPACTION = "hoist_store_pending_compaction_bytes";

    @Option(names = "--jobs", defaultValue = "10000000", description = "the backlog: jobs to fill the deep queue with (default: ${DEFAULT-VALUE})")
    long jobs;

    @Option(names = "--producers", defaultValue = "4", description = "producer threads of the fill, one connection each (default: ${DEFAULT-VALUE})")
    int producers;

    @Option(names = "--batch", defaultValue = "1000", description = "jobs per Enqueue call of the fill (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--fill-in-flight", defaultValue = "4", description = "unanswered Enqueue calls per producer during the fill (default: ${DEFAULT-VALUE})")
    int fillInFlight;

    @Option(names = "--shallow-depth", defaultValue = "1000", description = "the depth to compare with (default: ${DEFAULT-VALUE})")
    long shallowDepth;

    @Option(names = "--measure", defaultValue = "100000", description = "jobs leased and acked per measured round (default: ${DEFAULT-VALUE})")
    long measure;

    @Option(names = "--rounds", defaultValue = "3", description = "measured rounds at each depth; the median counts (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--warmup", defaultValue = "100000", description = "jobs leased and acked, not measured, at depth 1,000 before step 1's rounds and on each queue before step 4's (default: ${DEFAULT-VALUE})")
    long warmup;

    @Option(names = "--consumers", defaultValue = "4", description = "raw Lease + Ack sessions (default: ${DEFAULT-VALUE})")
    int consumers;

    @Option(names = "--in-flight", defaultValue = "16", description = "jobs per Lease call and held at once per consumer (default: ${DEFAULT-VALUE})")
    int inFlight;

    @Option(names = "--payload", defaultValue = "256", description = "payload bytes per job (default: ${DEFAULT-VALUE})")
    int payloadBytes;

    @Option(names = "--fsync", defaultValue = "always", description = "the broker's --fsync (default: ${DEFAULT-VALUE})")
    String fsync;

    @Option(names = "--broker-jar", description = "the broker jar (default: broker/target/hoist.jar of this checkout)")
    Path brokerJar;

    @Option(names = "--broker-jvm-opts", defaultValue = "-Xmx1g -XX:+ExitOnOutOfMemoryError",
            description = "JVM options of the broker, space separated (default: ${DEFAULT-VALUE}, the heap W4 allows); a bigger "
                    + "-Xmx measures backlogs that do not fit it yet")
    String brokerJvmOpts;

    @Option(names = "--dir", description = "where the data dir and the broker's log go; kept afterwards (default: a temp dir, "
            + "deleted at the end; on failure only its broker.log is kept)")
    Path dir;

    @Option(names = "--timeout", defaultValue = "1800", description = "bound of each phase in seconds: the fill, each round, the restart (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Option(names = "--json", description = "print one JSON object instead of the table")
    boolean json;

    @Option(names = "--progress", description = "draw the progress bars even when stderr is not a terminal")
    boolean progress;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        validate();
        boolean keep = dir != null;
        Path runDir = keep ? Files.createDirectories(dir) : Files.createTempDirectory("hoist-backlog-");
        Path dataDir = runDir.resolve("data");
        Path log = runDir.resolve("broker.log");
        Summary s = new Summary().put("scenario", "backlog").put("jobs", jobs).put("payload_bytes", payloadBytes)
                .put("fsync", fsync).put("broker_jvm_opts", brokerJvmOpts.trim()).put("consumers", consumers)
                .put("in_flight", inFlight).put("measure_jobs", measure).put("rounds", rounds);
        BrokerProcess broker = new BrokerProcess(brokerJar != null ? brokerJar : BrokerProcess.defaultJar(), dataDir, log,
                jvmOptions(), List.of("--fsync", fsync, "--retention", "1s"));
        boolean passed = false;
        try (FootprintWatch watch = new FootprintWatch(Duration.ofSeconds(1))) {
            passed = run(broker, watch, dataDir, log, s);
        } catch (IllegalStateException e) { // the broker did not start, or died while starting
            passed = failed(s, e.getMessage());
        } finally {
            broker.close();
            if (keep) {
                s.put("dir", runDir.toString());
            } else {
                cleanUp(runDir, passed);
                if (!passed) s.put("broker_log", log.toString());
            }
            PrintWriter out = spec.commandLine().getOut();
            out.print(json ? s.toJson() + System.lineSeparator() : s.toTable());
            out.flush();
        }
        return passed ? 0 : 1;
    }

    /** The five phases of the description, each adding its rows to {@code s}; false at the first that fails. */
    private boolean run(BrokerProcess broker, FootprintWatch watch, Path dataDir, Path log, Summary s) throws Exception {
        Duration phase = Duration.ofSeconds(timeoutSeconds);
        long phaseNanos = phase.toNanos();
        long t0 = System.nanoTime();
        broker.start(phase);
        s.put("start_empty_seconds", seconds(System.nanoTime() - t0));
        watch.follow(broker.metricsUrl(), broker.pid());
        long liveEmpty = watch.liveHeapBytes(broker.pid());
        s.put("heap_live_empty_bytes", liveEmpty);

        ByteString payload = Enqueuer.randomPayload(payloadBytes);
        FixedDepthRounds rounds = new FixedDepthRounds(broker.target(), consumers, inFlight, payload, showProgress());
        if (fill(broker, SHALLOW_QUEUE, shallowDepth, 1, phaseNanos) != shallowDepth) {
            return failed(s, "the depth-" + shallowDepth + " queue could not be filled");
        }
        FixedDepthRounds.Rates shallow = rounds.measure("depth " + shallowDepth, SHALLOW_QUEUE, warmup, measure, this.rounds, phaseNanos);
        putRates(s, "shallow", shallowDepth, shallow);
        if (!shallow.complete()) return failed(s, "the depth-" + shallowDepth + " rounds did not ack every job");

        long fillStart = System.nanoTime();
        long stored = fill(broker, DEEP_QUEUE, jobs, producers, phaseNanos);
        double fillSeconds = seconds(System.nanoTime() - fillStart);
        s.put("stored", stored).put("fill_seconds", fillSeconds).put("fill_jobs_per_second", Math.round(stored / fillSeconds));
        BrokerSampler.Footprint filled = watch.sample();
        s.put("heap_after_fill_bytes", filled.heapBytes());
        if (stored != jobs) {
            s.put("heap_max_seen_bytes", watch.maxHeapBytes());
            return failed(s, "the fill stopped at " + stored + " of " + jobs + " jobs" + (broker.healthy() ? ""
                    : ": the broker is gone (out of heap? its log says; a bigger -Xmx in --broker-jvm-opts measures further)"));
        }
        long liveFilled = watch.liveHeapBytes(broker.pid());
        watch.writeClassHistogram(broker.pid(), log.resolveSibling("heap-after-fill.txt"));
        long perJob = liveFilled < 0 || liveEmpty < 0 ? -1 : Math.round((liveFilled - liveEmpty) / (double) stored);
        long dataBytes = FootprintWatch.sizeOf(dataDir);
        s.put("heap_after_fill_live_bytes", liveFilled).put("heap_per_job_bytes", perJob)
                .put("heap_10m_jobs_projected_bytes", perJob < 0 ? -1 : liveEmpty + perJob * 10_000_000L)
                .put("rss_after_fill_bytes", filled.rssBytes())
                .put("data_dir_bytes", dataBytes).put("data_dir_bytes_per_job", dataBytes < 0 ? -1 : dataBytes / stored);

        s.put("compaction_wait_seconds", awaitCompaction(broker, phase));
        List<FixedDepthRounds.Rates> inTurn = rounds.measureInTurn("depth " + shallowDepth + " beside the backlog", SHALLOW_QUEUE,
                "depth " + stored, DEEP_QUEUE, warmup, measure, this.rounds, phaseNanos);
        FixedDepthRounds.Rates beside = inTurn.get(0);
        FixedDepthRounds.Rates deep = inTurn.get(1);
        putRates(s, "shallow_beside_backlog", shallowDepth, beside);
        putRates(s, "deep", stored, deep);
        s.put("deep_vs_shallow", Summary.round3(deep.median() / shallow.median()))
                .put("deep_vs_shallow_beside_backlog", Summary.round3(deep.median() / beside.median()));
        watch.sample();
        s.put("heap_max_seen_bytes", watch.maxHeapBytes()).put("rss_max_seen_bytes", watch.maxRssBytes());
        if (!deep.complete() || !beside.complete()) return failed(s, "the rounds beside the backlog did not ack every job");

        return restart(broker, watch, dataDir, log, s, phase);
    }

    /** SIGTERM, then start again on the same data dir: time to /healthz, to the first leased job, and the broker's own recovery figure. */
    private boolean restart(BrokerProcess broker, FootprintWatch watch, Path dataDir, Path log, Summary s, Duration phase)
            throws Exception {
        long stopStart = System.nanoTime();
        broker.close();
        s.put("stop_seconds", seconds(System.nanoTime() - stopStart)).put("data_dir_bytes_after_stop", FootprintWatch.sizeOf(dataDir));
        long t0 = System.nanoTime();
        broker.start(phase);
        s.put("restart_to_healthz_seconds", seconds(System.nanoTime() - t0));
        boolean leased = RestartProbe.firstLease(broker.target(), DEEP_QUEUE, phase);
        RestartProbe.Recovery recovery = RestartProbe.loggedRecovery(log);
        s.put("restart_to_first_lease_seconds", leased ? seconds(System.nanoTime() - t0) : -1.0)
                .put("recovered_jobs_logged", recovery.jobs()).put("recovery_logged_ms", recovery.millis());
        watch.follow(broker.metricsUrl(), broker.pid());
        BrokerSampler.Footprint after = watch.sample();
        long liveRestarted = watch.liveHeapBytes(broker.pid());
        watch.writeClassHistogram(broker.pid(), log.resolveSibling("heap-after-restart.txt"));
        s.put("heap_after_restart_bytes", after.heapBytes())
                .put("heap_after_restart_live_bytes", liveRestarted)
                .put("rss_after_restart_bytes", after.rssBytes())
                .put("heap_max_seen_bytes_with_restart", watch.maxHeapBytes())
                .put("rss_max_seen_bytes_with_restart", watch.maxRssBytes());
        return leased || failed(s, "the restarted broker leased no job of " + DEEP_QUEUE + " within " + phase.toSeconds() + " s");
    }

    /**
     * Waits (at most {@code bound}) until RocksDB reports no compaction pending: what the fill left
     * to rewrite would, on two cores, be charged to the deep rounds, which are to measure the
     * depth, not the fill's aftermath. Returns the seconds waited.
     */
    private static double awaitCompaction(BrokerProcess broker, Duration bound) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + bound.toNanos();
        while (System.nanoTime() < deadline) {
            long pending;
            try {
                pending = BrokerSampler.sum(broker.scrapeMetrics(), PENDING_COMPACTION, null, null);
            } catch (IOException e) {
                pending = -1; // no answer: treat as unknown
            }
            if (pending <= 0) break; // none pending, or the broker does not say
            Thread.sleep(1_000); // polling a gauge; RocksDB offers no event to wait on over HTTP
        }
        return seconds(System.nanoTime() - start);
    }

    private long fill(BrokerProcess broker, String queue, long count, int producerCount, long timeoutNanos) throws InterruptedException {
        Enqueuer enqueuer = new Enqueuer(broker.target(), queue, producerCount, fillInFlight, batch, payloadBytes);
        try (ProgressBar bar = ProgressBar.start("fill " + queue, count, enqueuer.stored::get, showProgress())) {
            enqueuer.run(count, timeoutNanos);
        }
        return enqueuer.stored.get();
    }

    private static void putRates(Summary s, String side, long depth, FixedDepthRounds.Rates r) {
        s.put(side + "_depth", depth)
                .put("lease_ack_per_second_" + side, Math.round(r.median()))
                .put("lease_ack_per_second_" + side + "_min", Math.round(r.min()))
                .put("lease_ack_per_second_" + side + "_max", Math.round(r.max()))
                .put(side + "_acked", r.acked()) // warm-up included
                .put(side + "_refused", r.refused());
    }

    private static boolean failed(Summary s, String problem) {
        s.put("problem", problem);
        return false;
    }

    private List<String> jvmOptions() {
        String opts = brokerJvmOpts.trim();
        return opts.isEmpty() ? List.of() : Arrays.asList(opts.split("\\s+"));
    }

    private boolean showProgress() {
        return progress || ProgressBar.stderrIsTerminal();
    }

    private static double seconds(long nanos) {
        return Summary.round3(nanos / 1e9);
    }

    private void validate() {
        String problem = jobs < 1 || measure < 1 || shallowDepth < 1 ? "--jobs, --measure and --shallow-depth must be at least 1"
                : rounds < 1 || consumers < 1 || inFlight < 1 ? "--rounds, --consumers and --in-flight must be at least 1"
                : producers < 1 || fillInFlight < 1 ? "--producers and --fill-in-flight must be at least 1"
                : batch < 1 || batch > 1000 ? "--batch must be 1 to 1000 (the broker's max-batch), got " + batch
                : warmup < 0 || payloadBytes < 0 || timeoutSeconds < 1 ? "--warmup and --payload must not be negative, --timeout positive"
                : null;
        if (problem != null) throw new ParameterException(spec.commandLine(), problem);
    }

    /** A temp dir holds GBs after a big run: delete it, but keep the broker's log when the run failed. */
    private static void cleanUp(Path runDir, boolean passed) throws IOException {
        try (Stream<Path> all = Files.walk(runDir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                if (passed || !(p.equals(runDir) || p.getFileName().toString().equals("broker.log"))) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
