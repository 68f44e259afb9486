package io.hoist.broker.cli;

import io.hoist.sdk.JobContext;
import io.hoist.sdk.Worker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code hoist work}: a worker for the shell. Each job runs a command with the payload on its
 * standard input; exit status 0 acks it, any other status nacks it with the end of its stderr.
 */
@Command(name = "work", mixinStandardHelpOptions = true,
        header = "Runs a worker from the shell: each job runs --exec COMMAND; exit 0 acks it.",
        description = {"Runs a worker from the shell. For each job it runs --exec COMMAND with sh -c,",
                "the payload on standard input, and HOIST_JOB_ID, HOIST_JOB_TYPE, HOIST_QUEUE,",
                "HOIST_ATTEMPT and HOIST_LEASE_TOKEN in the environment. Exit status 0 acks the job;",
                "any other status nacks it with the end of its stderr, and the job is retried per",
                "its retry policy. Without --exec each job just sleeps for --sleep (a demo).",
                "SIGTERM or Ctrl-C: stop leasing, let running jobs finish within --grace-period,",
                "deregister."})
final class WorkCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger("io.hoist.work");
    private static final int STDERR_TAIL_BYTES = 2_000;

    @Option(names = "--broker", paramLabel = "HOST:PORT", defaultValue = "${env:HOIST_BROKER:-localhost:7070}",
            description = "The broker's gRPC address. Env HOIST_BROKER. Default: ${DEFAULT-VALUE}")
    String broker;

    @Option(names = {"-q", "--queue"}, required = true, paramLabel = "NAME",
            description = "A queue to work (repeatable; tried in the order given).")
    List<String> queues = new ArrayList<>();

    @Option(names = {"-c", "--concurrency"}, paramLabel = "N", defaultValue = "1",
            description = "Jobs run at once. Default: ${DEFAULT-VALUE}")
    int concurrency;

    @Option(names = "--exec", paramLabel = "COMMAND", description = "The shell command to run per job.")
    String exec;

    @Option(names = "--sleep", paramLabel = "DURATION", defaultValue = "1s", converter = ServeCommand.DurationConverter.class,
            description = "Without --exec: how long each job pretends to work. Default: ${DEFAULT-VALUE}")
    Duration sleep;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "hoist-work",
            description = "The worker's name in 'hoist workers'. Default: ${DEFAULT-VALUE}")
    String name;

    @Option(names = "--grace-period", paramLabel = "DURATION", defaultValue = "30s", converter = ServeCommand.DurationConverter.class,
            description = "On shutdown, how long running jobs may take to finish. Default: ${DEFAULT-VALUE}")
    Duration gracePeriod;

    @Option(names = "--max-jobs", paramLabel = "N", defaultValue = "0",
            description = "Stop after N jobs have finished (0 = run until stopped). Default: ${DEFAULT-VALUE}")
    int maxJobs;

    @CommandLine.Mixin
    ClientSecurity security;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final CountDownLatch stop = new CountDownLatch(1);
    private final AtomicInteger finished = new AtomicInteger();

    @Override
    public Integer call() throws InterruptedException {
        if (concurrency < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--concurrency must be at least 1");
        }
        Worker worker = Worker.builder().target(broker).security(security.toSecurity()).queues(queues.toArray(String[]::new))
                .concurrency(concurrency).name(name).gracePeriod(gracePeriod)
                .defaultHandler(this::run).build();
        Thread hook = new Thread(stop::countDown, "hoist-work-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        worker.start();
        log.info("working queues={} concurrency={} {}", queues, concurrency, exec == null ? "sleep=" + sleep : "exec=" + exec);
        try {
            stop.await();
        } finally {
            worker.close(); // stops leasing, waits for running jobs, deregisters
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is already exiting; the hook has run
            }
        }
        log.info("stopped after {} jobs", finished.get());
        return 0;
    }

    private void run(JobContext ctx) throws Exception {
        try {
            if (exec == null) {
                Thread.sleep(sleep.toMillis());
            } else {
                runCommand(ctx);
            }
            log.info("job done job={} type={} attempt={}", ctx.id(), ctx.type(), ctx.attempt());
        } finally {
            if (maxJobs > 0 && finished.incrementAndGet() >= maxJobs) {
                stop.countDown();
            }
        }
    }

    private void runCommand(JobContext ctx) throws Exception {
        Path stderr = Files.createTempFile("hoist-work-", ".stderr");
        try {
            ProcessBuilder pb = new ProcessBuilder("sh", "-c", exec)
                    .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                    .redirectError(stderr.toFile());
            pb.environment().put("HOIST_JOB_ID", ctx.id());
            pb.environment().put("HOIST_JOB_TYPE", ctx.type());
            pb.environment().put("HOIST_QUEUE", ctx.queue());
            pb.environment().put("HOIST_ATTEMPT", String.valueOf(ctx.attempt()));
            pb.environment().put("HOIST_LEASE_TOKEN", ctx.leaseToken());
            Process p = pb.start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(ctx.payload());
            } catch (IOException closedEarly) {
                // the command did not read its whole input: that is its business
            }
            int status;
            try {
                status = p.waitFor();
            } catch (InterruptedException e) { // cancelled, or the grace period ran out
                p.destroy();
                p.toHandle().descendants().forEach(ProcessHandle::destroy);
                throw e;
            }
            if (status != 0) {
                log.info("job failed job={} type={} attempt={} exit={}", ctx.id(), ctx.type(), ctx.attempt(), status);
                throw new CommandFailedException("exit status " + status + tail(stderr));
            }
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    private static String tail(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length == 0) {
            return "";
        }
        int from = Math.max(0, all.length - STDERR_TAIL_BYTES);
        return ": " + new String(all, from, all.length - from, StandardCharsets.UTF_8).strip();
    }

    /** The command exited with a failure status; the message is what the job's errors record. */
    static final class CommandFailedException extends Exception {
        CommandFailedException(String message) {
            super(message, null, false, false);
        }
    }
}
