package io.hoist.system;

import io.hoist.sdk.JobContext;
import io.hoist.sdk.Worker;
import io.hoist.sdk.WorkerListener;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * A worker program for the process-level tests: one JVM per worker, started by {@link HoistCluster}.
 * Its jobs' JSON payloads say what the handler does ({@link Script}), and it appends one line per
 * event to the event log named on its command line, so that tests can check what happened:
 * <pre>
 *   EVENT \t jobId \t attempt \t leaseToken \t workerName \t sessionId \t nanoTime \t wallMillis \t detail
 * </pre>
 * Events: {@code READY} (worker started), {@code REGISTERED} (detail/session: the new worker id),
 * {@code START} / {@code END} (handler; END's detail is {@code ok} or {@code fail:...}), the
 * settlement of each result as the SDK reports it: {@code ACKED}, {@code ACK_REFUSED},
 * {@code NOT_SENT} (lease known lost), {@code NACKED} (detail: new state), {@code NACK_REFUSED};
 * and {@code STOPPED} after {@code close()} returned (SIGTERM: the shutdown hook).
 * {@code nanoTime} is {@link System#nanoTime()}: CLOCK_MONOTONIC on Linux, comparable across the
 * JVMs of one machine.
 *
 * <p>Arguments: {@code --target host:port --queue Q --concurrency N --name NAME --grace-ms MS --events FILE}.
 */
public final class ScriptedWorker {

    /** What a job's handler does; every field optional. */
    public record Script(int failTimes, boolean alwaysFail, long sleepMillis) {
    }

    private static OutputStream out;
    private static String name;

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            args.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
        }
        name = args.get("name");
        out = new FileOutputStream(Path.of(args.get("events")).toFile(), true);

        Worker worker = Worker.builder()
                .target(args.get("target"))
                .queues(args.get("queue"))
                .concurrency(Integer.parseInt(args.getOrDefault("concurrency", "4")))
                .name(name)
                .gracePeriod(Duration.ofMillis(Long.parseLong(args.getOrDefault("grace-ms", "10000"))))
                .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .handle("script", ScriptedWorker::handle)
                .listener(events())
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            worker.close();
            event("STOPPED", null, "");
        }, "scripted-worker-shutdown"));
        worker.start();
        event("READY", null, "");
    }

    private static void handle(JobContext ctx) throws Exception {
        Script s = ctx.payload(Script.class);
        event("START", ctx, "");
        try {
            if (s.sleepMillis() > 0) {
                Thread.sleep(s.sleepMillis()); // the job's "work"
            }
            if (s.alwaysFail() || ctx.attempt() <= s.failTimes()) {
                throw new IllegalStateException("scripted failure at attempt " + ctx.attempt());
            }
        } catch (Exception e) {
            event("END", ctx, "fail:" + e.getMessage() + (ctx.isLeaseLost() ? ":lost" : ""));
            throw e;
        }
        event("END", ctx, "ok" + (ctx.isLeaseLost() ? ":lost" : ""));
    }

    static synchronized void event(String type, JobContext ctx, String detail) {
        String session = ctx == null ? "-" : ctx.workerId();
        event(type, ctx == null ? "-" : ctx.id(), ctx == null ? 0 : ctx.attempt(),
                ctx == null ? "-" : ctx.leaseToken(), session, detail);
    }

    static synchronized void event(String type, String jobId, int attempt, String token, String session, String detail) {
        String line = String.join("\t", type, jobId, Integer.toString(attempt), token, name, session,
                Long.toString(System.nanoTime()), Long.toString(System.currentTimeMillis()),
                detail.replace('\t', ' ').replace('\n', ' ')) + "\n";
        try {
            out.write(line.getBytes(StandardCharsets.UTF_8)); // unbuffered: a kill -9 loses nothing written
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the event log", e);
        }
    }

    /** The SDK's listener turns registrations and the fate of each result into events. */
    static WorkerListener events() {
        return new WorkerListener() {
            @Override
            public void registered(String workerId) {
                event("REGISTERED", "-", 0, "-", workerId, workerId);
            }

            @Override
            public void settled(JobContext job, Settlement settlement) {
                event(settlement.name(), job, "");
            }
        };
    }
}
