package io.hoist.loadtest;

import io.hoist.proto.v1.Job;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The crash-loop checker: a broker process under steady load from producers and worker JVMs,
 * {@code kill -9}'d and restarted at seeded random moments; then the logs and the broker's final
 * state are checked by {@link ChaosChecker}. Exit code 0 only if every invariant holds.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Crash loop: starts a broker (java -jar hoist.jar serve), producers and worker JVMs, kill -9's and "
                + "restarts the broker at random moments (and workers with --worker-kills), then checks that no "
                + "acknowledged enqueue was lost, every job finished, and no job was completed twice.",
                "Exit code 0: every invariant held; 1: one failed (the report says which); 2: bad usage."})
final class ChaosCommand implements Callable<Integer> {

    @Option(names = "--kills", defaultValue = "20", description = "broker kill -9 cycles (default: ${DEFAULT-VALUE})")
    int kills;

    @Option(names = "--worker-kills", defaultValue = "0", description = "worker kill -9's, spread over the cycles at random (default: ${DEFAULT-VALUE})")
    int workerKills;

    @Option(names = "--seed", description = "random seed of the kill moments (default: the clock; the report prints it)")
    Long seed;

    @Option(names = "--min-up", defaultValue = "2s", converter = DurationConverter.class, description = "shortest broker uptime before a kill (default: ${DEFAULT-VALUE})")
    Duration minUp;

    @Option(names = "--max-up", defaultValue = "8s", converter = DurationConverter.class, description = "longest broker uptime before a kill (default: ${DEFAULT-VALUE})")
    Duration maxUp;

    @Option(names = "--max-down", defaultValue = "500ms", converter = DurationConverter.class, description = "longest pause before the restart (default: ${DEFAULT-VALUE})")
    Duration maxDown;

    @Option(names = "--max-time", defaultValue = "10m", converter = DurationConverter.class, description = "bound on the kill phase; fewer kills than --kills then fail the run (default: ${DEFAULT-VALUE})")
    Duration maxTime;

    @Option(names = "--drain-timeout", defaultValue = "2m", converter = DurationConverter.class, description = "how long the workers get to finish every job at the end (default: ${DEFAULT-VALUE})")
    Duration drainTimeout;

    @Option(names = "--rate", defaultValue = "300", description = "jobs per second, all producers together (default: ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--producers", defaultValue = "2", description = "producer threads, each with its own client and log (default: ${DEFAULT-VALUE})")
    int producers;

    @Option(names = "--batch", defaultValue = "10", description = "jobs per Enqueue call (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--workers", defaultValue = "3", description = "worker JVMs (default: ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--concurrency", defaultValue = "8", description = "jobs each worker runs at once (default: ${DEFAULT-VALUE})")
    int concurrency;

    @Option(names = "--work-ms", defaultValue = "50", description = "each job's handler sleeps a random 0..N ms, so that kills find jobs in flight (default: ${DEFAULT-VALUE})")
    int workMillis;

    @Option(names = "--fsync", defaultValue = "always", description = "the broker's --fsync (default: ${DEFAULT-VALUE}; only 'always' promises no loss)")
    String fsync;

    @Option(names = "--session-timeout", defaultValue = "5s", converter = DurationConverter.class, description = "the broker's --session-timeout: how soon a killed worker's jobs come back (default: ${DEFAULT-VALUE})")
    Duration sessionTimeout;

    @Option(names = "--lease-duration", defaultValue = "5s", converter = DurationConverter.class, description = {
            "each job's lease_duration (default: ${DEFAULT-VALUE}). A lease whose Lease reply died with the broker is "
                    + "held by nobody, yet counts against its worker's concurrency until it expires, and every restart "
                    + "renews every lease: longer than the uptimes, such leases starve the workers until the kills stop."})
    Duration leaseDuration;

    @Option(names = "--broker-jar", description = "the broker jar (default: broker/target/hoist.jar of this checkout)")
    Path brokerJar;

    @Option(names = "--broker-jvm-opts", defaultValue = "-Xmx512m", description = "JVM options of the broker, space separated (default: ${DEFAULT-VALUE})")
    String brokerJvmOpts;

    @Option(names = "--dir", description = "where the data dir and every log go; kept afterwards (default: a new temp dir)")
    Path dir;

    @Option(names = "--json", description = "print one JSON object instead of the table")
    boolean json;

    @Option(names = "--progress", description = "draw the progress bar even when stderr is not a terminal")
    boolean progress;

    @Spec
    CommandSpec spec;

    private static final String QUEUE = "chaos";

    @Override
    public Integer call() throws Exception {
        validate();
        long seedValue = seed != null ? seed : System.currentTimeMillis();
        Random random = new Random(seedValue);
        Path runDir = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("hoist-chaos-");
        BrokerProcess broker = new BrokerProcess(brokerJar != null ? brokerJar : BrokerProcess.defaultJar(),
                runDir.resolve("data"), runDir.resolve("broker.log"),
                Arrays.asList(brokerJvmOpts.trim().split("\\s+")),
                List.of("--fsync", fsync, "--retention", "1h", "--session-timeout", DurationConverter.format(sessionTimeout),
                        "--heartbeat-interval", "1s"));
        List<ChaosProducer> producerList = new ArrayList<>();
        WorkerFleet fleet = new WorkerFleet(runDir, broker.target(), QUEUE, concurrency, workMillis);
        try {
            broker.start(Duration.ofSeconds(60));
            fleet.start(workers);
            for (int i = 0; i < producers; i++) {
                ChaosProducer p = new ChaosProducer("p" + (i + 1), broker.target(), QUEUE,
                        runDir.resolve("producer-p" + (i + 1) + ".log"), rate / producers, batch, leaseDuration);
                producerList.add(p);
                p.start();
            }
            LongSupplier acknowledgedSoFar = () -> producerList.stream().mapToLong(p -> p.acknowledged.get()).sum();
            awaitLoad(acknowledgedSoFar);
            AtomicLong brokerKills = new AtomicLong();
            AtomicLong killsUnderLoad = new AtomicLong();
            long killStart = System.nanoTime();
            try (ProgressBar bar = ProgressBar.start("chaos: broker kills", kills, brokerKills::get,
                    progress || ProgressBar.stderrIsTerminal())) {
                killLoop(broker, fleet, random, brokerKills, killsUnderLoad, acknowledgedSoFar);
            }
            double killSeconds = (System.nanoTime() - killStart) / 1e9;
            for (ChaosProducer p : producerList) p.stop(Duration.ofSeconds(20));

            long acknowledged = producerList.stream().mapToLong(p -> p.acknowledged.get()).sum();
            long drainStart = System.nanoTime();
            ChaosBrokerView view = new ChaosBrokerView(broker.target(), QUEUE);
            AtomicLong open = new AtomicLong(acknowledged);
            boolean drained;
            try (ProgressBar bar = ProgressBar.start("chaos: drain", acknowledged, () -> acknowledged - open.get(),
                    progress || ProgressBar.stderrIsTerminal())) {
                drained = view.awaitDrained(drainTimeout, open);
            }
            double drainSeconds = (System.nanoTime() - drainStart) / 1e9;
            fleet.close(); // SIGTERM: the workers settle what they hold and write their last lines

            broker.kill9(); // the final state is read from what the last kill -9 left on disk
            broker.start(Duration.ofSeconds(60));
            List<EventLog.Event> produced = readAll(producerLogs(runDir, producerList.size()));
            Map<String, Job> state = view.finalState(produced.stream().filter(e -> e.is("ENQUEUED"))
                    .map(EventLog.Event::jobId).toList());
            ChaosReport report = new ChaosReport(new ChaosReport.Run(seedValue, QUEUE, runDir.toString(), kills,
                    (int) brokerKills.get(), (int) killsUnderLoad.get(), fleet.kills(), killSeconds, drainSeconds, drained,
                    producerList.stream().mapToLong(p -> p.failedCalls.get()).sum(),
                    producerList.stream().mapToLong(p -> p.inDoubt.get()).sum()),
                    ChaosChecker.check(produced, readAll(fleet.logs()), state));
            PrintWriter out = spec.commandLine().getOut();
            out.print(json ? report.toJson() + System.lineSeparator() : report.toTable());
            out.flush();
            return report.passed() ? 0 : 1;
        } finally {
            for (ChaosProducer p : producerList) p.close();
            fleet.close();
            broker.closeForGood();
        }
    }

    private void validate() {
        String problem = kills < 1 ? "--kills must be at least 1, got " + kills
                : workerKills < 0 ? "--worker-kills must be 0 or more, got " + workerKills
                : maxUp.compareTo(minUp) < 0 ? "--max-up (" + maxUp + ") is shorter than --min-up (" + minUp + ")"
                : rate <= 0 || producers < 1 || batch < 1 ? "--rate, --producers and --batch must be positive"
                : workers < 1 || concurrency < 1 ? "--workers and --concurrency must be at least 1"
                : null;
        if (problem != null) throw new picocli.CommandLine.ParameterException(spec.commandLine(), problem);
    }

    /** The JVMs take a while to start: the first kill should find jobs flowing, as every later one does. */
    private void awaitLoad(LongSupplier acknowledged) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (acknowledged.getAsLong() < Math.max(batch, rate) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    /**
     * Up to {@code kills} cycles of: up for a random while (a worker killed within it, maybe),
     * kill -9, down, start. A kill counts as under load if enqueues were acknowledged since the restart before it.
     */
    private void killLoop(BrokerProcess broker, WorkerFleet fleet, Random random, AtomicLong brokerKills,
                          AtomicLong killsUnderLoad, LongSupplier acknowledged) throws Exception {
        boolean[] workerKillCycle = new boolean[kills];
        int[] extraWorkerKills = new int[kills];
        for (int k = 0; k < workerKills; k++) {
            int cycle = random.nextInt(kills);
            if (workerKillCycle[cycle]) extraWorkerKills[cycle]++; else workerKillCycle[cycle] = true;
        }
        long deadline = System.nanoTime() + maxTime.toNanos();
        for (int cycle = 0; cycle < kills && System.nanoTime() < deadline; cycle++) {
            long up = minUp.toMillis() + (long) (random.nextDouble() * (maxUp.toMillis() - minUp.toMillis()));
            int workerKillsNow = workerKillCycle[cycle] ? 1 + extraWorkerKills[cycle] : 0;
            long acknowledgedAtStart = acknowledged.getAsLong();
            for (int w = 0; w < workerKillsNow; w++) {
                long before = (long) (random.nextDouble() * up / workerKillsNow);
                Thread.sleep(before);
                up -= before;
                fleet.killOneAndReplace(random);
            }
            Thread.sleep(up);
            broker.kill9();
            brokerKills.incrementAndGet();
            if (acknowledged.getAsLong() > acknowledgedAtStart) killsUnderLoad.incrementAndGet();
            Thread.sleep((long) (random.nextDouble() * maxDown.toMillis()));
            broker.start(Duration.ofSeconds(60));
        }
    }

    private static List<Path> producerLogs(Path runDir, int producers) {
        List<Path> logs = new ArrayList<>();
        for (int i = 1; i <= producers; i++) logs.add(runDir.resolve("producer-p" + i + ".log"));
        return logs;
    }

    private static List<EventLog.Event> readAll(List<Path> logs) {
        List<EventLog.Event> all = new ArrayList<>();
        logs.forEach(l -> all.addAll(EventLog.read(l)));
        return all;
    }
}
