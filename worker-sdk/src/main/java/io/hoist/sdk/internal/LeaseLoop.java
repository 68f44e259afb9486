package io.hoist.sdk.internal;

import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

/**
 * The one thread that leases, over a {@link LeaseStream}: it waits for free slots and grants the
 * broker one credit per slot; the broker pushes jobs as they become ready, never more than
 * granted. Never spins: with no free slot it waits for one; a stream that failed is handled here
 * (register again, fail over, back off) and the next grant opens a new one. While the broker asks
 * the worker to stop leasing, the stream is closed. {@link #stop()} closes it: the broker stops
 * leasing, answers the acks on their way, and ends the stream.
 */
public final class LeaseLoop {
    private static final Logger log = LoggerFactory.getLogger(LeaseLoop.class);

    /** What the loop leases from and how it waits. */
    public record Settings(List<String> queues, Duration callTimeout, Backoff backoff, LeasePause pause) {
    }

    private final BrokerConnection connection;
    private final WorkerSession session;
    private final RunningJobs jobs;
    private final LeaseStream stream;
    private final Settings settings;
    private final Thread thread;
    private volatile boolean stopped;

    public LeaseLoop(BrokerConnection connection, WorkerSession session, RunningJobs jobs, Dispatcher dispatcher,
                     Settings settings) {
        this.connection = connection;
        this.session = session;
        this.jobs = jobs;
        this.stream = new LeaseStream(connection, session, jobs, dispatcher, settings.queues());
        this.settings = settings;
        this.thread = new Thread(this::run, "hoist-lease"); // not a daemon: a started worker keeps the JVM up
    }

    /** Where the {@link AckSender} sends acks while the stream is open. */
    LeaseStream stream() {
        return stream;
    }

    public void start() {
        thread.start();
    }

    /** Stops leasing: no more credits, the stream is closed. Returns once the loop has ended. */
    public void stop() throws InterruptedException {
        stopped = true;
        thread.interrupt();
        thread.join(settings.callTimeout().toMillis());
        stream.close();
    }

    private void run() {
        int failures = 0;
        while (!stopped) {
            try {
                if (settings.pause().isPaused()) {
                    stream.close();
                    settings.pause().awaitResumed();
                    continue;
                }
                int free = jobs.awaitFreeSlots();
                stream.grant(session.ensureRegistered(), free); // the session as it is now, after the wait
            } catch (LeaseStream.Ended e) {
                if (stopped) {
                    break;
                }
                try {
                    failures = onFailure(e, e.worked ? 0 : failures);
                } catch (InterruptedException ie) {
                    break;
                }
            } catch (InterruptedException e) {
                if (stopped) {
                    break;
                }
            }
        }
        stream.close();
        log.debug("lease loop stopped");
    }

    /** Answers the new count of consecutive failures. */
    private int onFailure(LeaseStream.Ended ended, int failures) throws InterruptedException {
        StatusRuntimeException e = ended.status;
        if (StatusErrors.isSessionGone(e)) {
            session.replace(ended.workerId); // registers again, unless the heartbeats did already
            return 0;
        }
        if (StatusErrors.isTransient(e)) {
            connection.failover(e, ended.channel);
        } else {
            log.warn("lease stream failed: {}", StatusErrors.error(e));
        }
        settings.backoff().sleep(failures + 1);
        return failures + 1;
    }
}
