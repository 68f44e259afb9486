package io.hoist.system;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.hoist.sdk.JobContext;
import io.hoist.sdk.Worker;
import io.hoist.sdk.internal.RunningJob;
import org.slf4j.LoggerFactory;

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
        captureSdkEvents();

        Worker worker = Worker.builder()
                .target(args.get("target"))
                .queues(args.get("queue"))
                .concurrency(Integer.parseInt(args.getOrDefault("concurrency", "4")))
                .name(name)
                .gracePeriod(Duration.ofMillis(Long.parseLong(args.getOrDefault("grace-ms", "10000"))))
                .leaseWait(Duration.ofSeconds(2))
                .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .handle("script", ScriptedWorker::handle)
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
        String session = ctx instanceof RunningJob r ? r.workerId() : "-";
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

    /**
     * The SDK tells the outcome of each ack and nack, and each registration, only in its logs: an
     * appender on those loggers turns them into events (the SDK's messages are matched on their
     * format strings, and the job comes from the first argument, the delivery's context).
     */
    private static void captureSdkEvents() {
        LoggerContext lc = (LoggerContext) LoggerFactory.getILoggerFactory();
        AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
                Object[] a = e.getArgumentArray();
                String msg = e.getMessage();
                if (a != null && a.length > 0 && a[0] instanceof JobContext ctx) {
                    String type = msg.startsWith("acked ") ? "ACKED"
                            : msg.startsWith("ack of ") ? "ACK_REFUSED"
                            : msg.startsWith("result of ") ? "NOT_SENT"
                            : msg.startsWith("nacked ") ? "NACKED"
                            : msg.startsWith("nack of ") ? "NACK_REFUSED" : null;
                    if (type != null) {
                        event(type, ctx, a.length > 1 ? String.valueOf(a[1]) : "");
                    }
                } else if (msg.startsWith("registered worker=") && a != null && a.length > 0) {
                    event("REGISTERED", "-", 0, "-", String.valueOf(a[0]), String.valueOf(a[0]));
                }
                if (e.getLevel().isGreaterOrEqual(Level.WARN) && e.getLoggerName().endsWith("AckSender")) {
                    System.out.println(e.getLevel() + " [" + e.getThreadName() + "] " + e.getFormattedMessage());
                }
            }
        };
        appender.setContext(lc);
        appender.start();
        Logger acks = lc.getLogger("io.hoist.sdk.internal.AckSender");
        acks.setLevel(Level.DEBUG);
        acks.setAdditive(false); // every ack at DEBUG would flood stdout; warnings are echoed above
        acks.addAppender(appender);
        Logger session = lc.getLogger("io.hoist.sdk.internal.WorkerSession");
        session.setLevel(Level.INFO);
        session.addAppender(appender);
    }
}
