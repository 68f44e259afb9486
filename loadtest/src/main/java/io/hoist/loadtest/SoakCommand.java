package io.hoist.loadtest;

import io.hoist.sdk.Worker;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Soak: steady enqueues at {@code --rate} for {@code --duration}, consumed by SDK Workers in this
 * JVM, and every {@code --interval} one sample of the broker's heap, RSS, open files and the
 * enqueue → handler-start p99 of that interval (from each job's intended send time, as in
 * {@code latency}). Samples go to stdout as they come and to CSV and JSON files; at the end each
 * series is judged flat or not ({@link Flatness}). Exit code 1 if a series grew or jobs failed.
 */
@Command(name = "soak", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Soak: steady load for --duration (starting a broker, or against --broker), sampling the broker's heap, "
                + "RSS, open files and the enqueue -> handler-start p99 every --interval; saves CSV and JSON and says whether "
                + "each series stayed flat (last-tenth median <= second-tenth median x (1 + --tolerance) + a small slack).",
                "Exit code 0: every series flat and every job handled; 1: otherwise."})
final class SoakCommand implements Callable<Integer> {

    @Option(names = "--duration", defaultValue = "10m", converter = DurationConverter.class, description = "how long to load (default: ${DEFAULT-VALUE})")
    Duration duration;

    @Option(names = "--rate", defaultValue = "500", description = "jobs per second (default: ${DEFAULT-VALUE})")
    long rate;

    @Option(names = "--interval", defaultValue = "10s", converter = DurationConverter.class, description = "time between samples (default: ${DEFAULT-VALUE})")
    Duration interval;

    @Option(names = "--broker", description = "the gRPC host:port of a running broker (default: start one from --broker-jar)")
    String broker;

    @Option(names = "--metrics-url", description = "the broker's /metrics (default: http://HOST:PORT+1/metrics of --broker)")
    URI metricsUrl;

    @Option(names = "--broker-jar", description = "the broker jar to start (default: broker/target/hoist.jar of this checkout)")
    Path brokerJar;

    @Option(names = "--broker-jvm-opts", defaultValue = "-Xms512m -Xmx512m -XX:+AlwaysPreTouch", description = {
            "JVM options of a started broker (default: ${DEFAULT-VALUE}). A fixed, pre-touched heap keeps the JVM's "
                    + "own heap sizing out of the RSS series, so that RSS growth means memory outside the heap."})
    String brokerJvmOpts;

    @Option(names = "--dir", description = "where a started broker keeps its data (deleted at the end) and its log (kept) (default: a new temp dir)")
    Path dir;

    @Option(names = "--retention", defaultValue = "30s", converter = DurationConverter.class, description = "a started broker's --retention: finished jobs pile up until then, so keep it well under a tenth of --duration (default: ${DEFAULT-VALUE})")
    Duration retention;

    @Option(names = "--consumers", defaultValue = "2", description = "SDK Workers (default: ${DEFAULT-VALUE})")
    int consumers;

    @Option(names = "--in-flight", defaultValue = "16", description = "jobs held at once per Worker (default: ${DEFAULT-VALUE})")
    int inFlight;

    @Option(names = "--producers", defaultValue = "2", description = "producer threads (default: ${DEFAULT-VALUE})")
    int producers;

    @Option(names = "--payload", defaultValue = "256", description = "payload bytes per job (default: ${DEFAULT-VALUE})")
    int payloadBytes;

    @Option(names = "--tolerance", defaultValue = "0.25", description = "allowed growth of each series, as a fraction (default: ${DEFAULT-VALUE})")
    double tolerance;

    @Option(names = "--out", description = "file name prefix of the .csv and .json (default: soak-<date>-<time> in the working dir)")
    String out;

    @Option(names = "--json", description = "print one JSON object instead of the table")
    boolean json;

    @Option(names = "--progress", description = "draw the progress bar even when stderr is not a terminal")
    boolean progress;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (duration.toSeconds() < 10 || interval.isZero() || rate <= 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--duration must be at least 10s, --interval and --rate positive");
        }
        String prefix = out != null ? out : "soak-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String queue = "loadtest-soak-" + System.currentTimeMillis();
        BrokerProcess started = null;
        Path dataDir = null;
        List<Worker> workers = new ArrayList<>();
        try {
            String target = broker;
            BrokerSampler sampler;
            if (broker == null) {
                dataDir = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("hoist-soak-");
                started = new BrokerProcess(brokerJar != null ? brokerJar : BrokerProcess.defaultJar(), dataDir.resolve("data"),
                        dataDir.resolve("broker.log"), Arrays.asList(brokerJvmOpts.trim().split("\\s+")),
                        List.of("--fsync", "always", "--retention", DurationConverter.format(retention)));
                started.start(Duration.ofSeconds(60));
                target = started.target();
                sampler = new BrokerSampler(URI.create(started.metricsUrl()), OptionalLong.of(started.pid()));
            } else {
                sampler = new BrokerSampler(metricsUrl != null ? metricsUrl : defaultMetricsUrl(broker), OptionalLong.empty());
            }
            Recorder latency = new Recorder(TimeUnit.HOURS.toMicros(1), 3);
            AtomicLong handled = new AtomicLong();
            for (int i = 0; i < consumers; i++) {
                workers.add(Worker.builder().target(target).queues(queue).concurrency(inFlight).name("loadtest-soak-" + i)
                        .gracePeriod(Duration.ofSeconds(5))
                        .defaultHandler(ctx -> {
                            long intended = ByteBuffer.wrap(ctx.payload()).getLong();
                            latency.recordValue(Math.min(TimeUnit.HOURS.toMicros(1), Math.max(0, (System.nanoTime() - intended) / 1000)));
                            handled.incrementAndGet();
                        }).build().start());
            }
            SoakTable table = new SoakTable(rate, duration, interval, tolerance);
            long start = System.nanoTime() + 10_000_000;
            RateSchedule schedule = new RateSchedule(start, rate, duration.toSeconds());
            PacedProducers paced = new PacedProducers(target, queue, producers, 64, payloadBytes, schedule, false);
            Thread producing = new Thread(() -> {
                try {
                    paced.run(duration.toNanos() + TimeUnit.MINUTES.toNanos(1));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "soak-producers");
            producing.start();
            PrintWriter stdout = spec.commandLine().getOut();
            if (!json) stdout.println(SoakTable.HEADER);
            try (ProgressBar bar = ProgressBar.start("soak", schedule.jobs(), handled::get,
                    progress || ProgressBar.stderrIsTerminal())) {
                long previousHandled = 0;
                boolean earlyGcDone = false;
                latency.getIntervalHistogram(); // start the first window now
                for (long next = start + interval.toNanos(); next <= start + duration.toNanos() + 1_000_000; next += interval.toNanos()) {
                    if (started != null && !earlyGcDone && next - start > duration.toNanos() / 5) {
                        earlyGcDone = true; // the end of the second tenth: the heap's live data, to compare with the end's
                        table.liveHeapEarly(liveHeap(started, sampler));
                    }
                    TimeUnit.NANOSECONDS.sleep(Math.max(0, next - System.nanoTime()));
                    Histogram window = latency.getIntervalHistogram();
                    long h = handled.get();
                    SoakTable.Sample s = table.add((System.nanoTime() - start) / 1e9, sampler.sample(), window,
                            (h - previousHandled) / (interval.toNanos() / 1e9));
                    previousHandled = h;
                    if (!json) {
                        stdout.println(SoakTable.row(s));
                        stdout.flush();
                    }
                }
            }
            producing.join(TimeUnit.MINUTES.toMillis(2));
            if (started != null) table.liveHeapEnd(liveHeap(started, sampler));
            table.totals(paced.stored.get(), paced.failed.get(), handled.get());
            Files.writeString(Path.of(prefix + ".csv"), table.toCsv());
            Files.writeString(Path.of(prefix + ".json"), table.toJson() + System.lineSeparator());
            stdout.print(json ? table.toJson() + System.lineSeparator() : table.verdicts()
                    + "saved " + prefix + ".csv and " + prefix + ".json" + System.lineSeparator());
            stdout.flush();
            return table.passed() ? 0 : 1;
        } finally {
            workers.parallelStream().forEach(Worker::close);
            if (started != null) {
                started.closeForGood();
                deleteTree(dataDir.resolve("data")); // only the log is worth keeping
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** Heap in use right after a full collection, in bytes; -1 if jcmd could not force one. */
    private static long liveHeap(BrokerProcess broker, BrokerSampler sampler) throws InterruptedException {
        return broker.fullGc() ? sampler.sample().heapBytes() : -1;
    }

    private static URI defaultMetricsUrl(String target) {
        int colon = target.lastIndexOf(':');
        return URI.create("http://" + target.substring(0, colon) + ":" + (Integer.parseInt(target.substring(colon + 1)) + 1) + "/metrics");
    }
}
