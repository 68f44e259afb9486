package io.hoist.sdk.internal;

import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.LeaseResponse;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.WorkerServiceGrpc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * The one thread that leases: waits for a free slot, asks for exactly as many jobs as slots are
 * free with a long poll, and hands what comes to the {@link Dispatcher}. Never spins: with no
 * free slot it waits for one; an empty answer comes after the poll's wait (or, if the broker
 * answers early, after a backoff); failures back off. {@link #stop()} cancels a parked Lease.
 */
public final class LeaseLoop {
    private static final Logger log = LoggerFactory.getLogger(LeaseLoop.class);

    /** What the loop asks for and how it waits. */
    public record Settings(List<String> queues, Duration pollWait, Duration callTimeout, Backoff backoff,
                           LeasePause pause) {
    }

    private final BrokerConnection connection;
    private final WorkerSession session;
    private final RunningJobs jobs;
    private final Dispatcher dispatcher;
    private final Settings settings;
    private final Thread thread;
    private volatile boolean stopped;
    private volatile Future<?> parked;
    private Channel lastChannel; // the loop's thread only

    public LeaseLoop(BrokerConnection connection, WorkerSession session, RunningJobs jobs, Dispatcher dispatcher,
                     Settings settings) {
        this.connection = connection;
        this.session = session;
        this.jobs = jobs;
        this.dispatcher = dispatcher;
        this.settings = settings;
        this.thread = new Thread(this::run, "hoist-lease"); // not a daemon: a started worker keeps the JVM up
    }

    public void start() {
        thread.start();
    }

    /** Stops leasing: no new Lease call, the parked one is cancelled. Returns once the loop has ended. */
    public void stop() throws InterruptedException {
        stopped = true;
        Future<?> p = parked;
        if (p != null) {
            p.cancel(true);
        }
        thread.interrupt();
        thread.join(settings.callTimeout().toMillis());
    }

    private void run() {
        int failures = 0;
        int earlyEmpties = 0;
        while (!stopped) {
            String workerId = null;
            try {
                workerId = session.ensureRegistered();
                settings.pause().awaitResumed();
                int free = jobs.awaitFreeSlots();
                long startedNanos = System.nanoTime();
                LeaseResponse resp = lease(workerId, free);
                connection.reachable();
                failures = 0;
                dispatchAll(resp.getJobsList(), workerId);
                boolean early = System.nanoTime() - startedNanos < settings.pollWait().toNanos() / 2;
                if (resp.getJobsCount() == 0 && early) {
                    settings.backoff().sleep(++earlyEmpties); // the broker answers at once: shutting down, most likely
                } else {
                    earlyEmpties = 0;
                }
            } catch (StatusRuntimeException e) {
                if (stopped) {
                    break;
                }
                try {
                    failures = onFailure(e, workerId, failures);
                } catch (InterruptedException ie) {
                    break;
                }
            } catch (InterruptedException | CancellationException e) {
                if (stopped) {
                    break;
                }
            }
        }
        log.debug("lease loop stopped");
    }

    private LeaseResponse lease(String workerId, int maxJobs) throws InterruptedException {
        LeaseRequest req = LeaseRequest.newBuilder().setWorkerId(workerId).addAllQueues(settings.queues())
                .setMaxJobs(maxJobs).setWait(ProtoMapper.duration(settings.pollWait())).build();
        // the answer completes the future on the transport's thread, which wakes this one: without
        // it, a thread of the channel's executor would wake first, one more hop before a handler starts
        WorkerServiceGrpc.WorkerServiceFutureStub stub =
                connection.workerAsync(settings.pollWait().plus(settings.callTimeout())).withExecutor(Runnable::run);
        lastChannel = stub.getChannel();
        Future<LeaseResponse> call = stub.lease(req);
        parked = call;
        try {
            if (stopped) {
                call.cancel(true);
            }
            return call.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException s) {
                throw s;
            }
            throw new IllegalStateException("Lease failed", e.getCause());
        } catch (InterruptedException e) {
            call.cancel(true);
            throw e;
        } finally {
            parked = null;
        }
    }

    private void dispatchAll(List<LeasedJob> leased, String workerId) {
        if (leased.isEmpty()) {
            return;
        }
        if (!workerId.equals(session.workerId())) {
            // leased under a session replaced meanwhile: the broker released them with it
            log.debug("{} jobs leased under the replaced session worker={} not started", leased.size(), workerId);
            return;
        }
        Instant receivedAt = Instant.now();
        for (LeasedJob j : leased) {
            dispatcher.dispatch(j, workerId, receivedAt);
        }
    }

    /** Answers the new count of consecutive failures. */
    private int onFailure(StatusRuntimeException e, String workerId, int failures) throws InterruptedException {
        if (StatusErrors.isSessionGone(e) && workerId != null) {
            session.replace(workerId);
            return 0;
        }
        if (StatusErrors.isTransient(e)) {
            connection.failover(e, lastChannel);
        } else {
            log.warn("lease failed: {}", StatusErrors.error(e));
        }
        settings.backoff().sleep(failures + 1);
        return failures + 1;
    }
}
