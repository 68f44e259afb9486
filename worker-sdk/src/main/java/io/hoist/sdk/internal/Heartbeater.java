package io.hoist.sdk.internal;

import io.grpc.StatusRuntimeException;
import io.hoist.proto.v1.HeartbeatRequest;
import io.hoist.proto.v1.HeartbeatResponse;
import io.hoist.proto.v1.WorkerServiceGrpc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Heartbeats every {@code heartbeat_interval} (from Register) on its own thread, listing the jobs
 * this worker holds, and acts on the answer: lost jobs are marked lost, cancelled ones are
 * cancelled (their handlers interrupted), {@code shutdown_requested} pauses leasing, and a
 * NOT_FOUND session is replaced by a new registration. Handlers can ask for a beat now. Beats are
 * serialized.
 */
public final class Heartbeater implements LeaseKeeper {
    private static final Logger log = LoggerFactory.getLogger(Heartbeater.class);

    private final BrokerConnection connection;
    private final WorkerSession session;
    private final RunningJobs jobs;
    private final LeasePause pause;
    private final Duration callTimeout;
    private final Semaphore wake = new Semaphore(0);
    private final ReentrantLock beating = new ReentrantLock();
    private final Thread thread;
    private volatile boolean suspended;

    public Heartbeater(BrokerConnection connection, WorkerSession session, RunningJobs jobs, LeasePause pause,
                       Duration callTimeout) {
        this.connection = connection;
        this.session = session;
        this.jobs = jobs;
        this.pause = pause;
        this.callTimeout = callTimeout;
        this.thread = new Thread(this::run, "hoist-heartbeat");
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    public void close() throws InterruptedException {
        thread.interrupt();
        thread.join(callTimeout.toMillis());
    }

    /** Test hook: while suspended no heartbeat is sent, as if the worker were frozen. */
    public void suspend(boolean suspend) {
        suspended = suspend;
    }

    @Override
    public boolean extendNow(RunningJob job) {
        String workerId = beat(false);
        return workerId != null && workerId.equals(job.workerId()) && !job.isLeaseLost();
    }

    @Override
    public void beatSoon() {
        wake.release();
    }

    /**
     * Beats every heartbeat interval, and sooner when asked, but never more often than every
     * quarter interval: a handler calling progress() in a loop must not flood the broker.
     */
    private void run() {
        try {
            long lastBeat = System.nanoTime();
            while (true) {
                long interval = session.heartbeatInterval().toNanos();
                long left = lastBeat + interval - System.nanoTime();
                if (left > 0 && wake.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                    long early = lastBeat + interval / 4 - System.nanoTime();
                    if (early > 0) {
                        TimeUnit.NANOSECONDS.sleep(early);
                    }
                }
                wake.drainPermits();
                lastBeat = System.nanoTime();
                beat(true);
            }
        } catch (InterruptedException e) {
            log.debug("heartbeats stopped");
        }
    }

    /**
     * One heartbeat. Answers the session id it was accepted for, or null (not registered,
     * suspended, or failed). With {@code mayRegister}, a NOT_FOUND session is replaced here.
     */
    private String beat(boolean mayRegister) {
        String workerId = session.workerId();
        if (workerId == null || suspended) {
            return null;
        }
        boolean sessionGone = false;
        WorkerServiceGrpc.WorkerServiceBlockingStub stub = null;
        beating.lock();
        try {
            List<RunningJob> held = jobs.heldBy(workerId);
            HeartbeatRequest.Builder req = HeartbeatRequest.newBuilder().setWorkerId(workerId);
            held.forEach(j -> req.addActiveJobIds(j.id()));
            Instant sentAt = Instant.now();
            stub = connection.worker(deadline());
            HeartbeatResponse resp = stub.heartbeat(req.build());
            connection.reachable();
            apply(resp, held, workerId, sentAt);
            return workerId;
        } catch (StatusRuntimeException e) {
            if (StatusErrors.isSessionGone(e)) {
                sessionGone = true;
            } else if (StatusErrors.isTransient(e)) {
                connection.failover(e, stub != null ? stub.getChannel() : null);
            } else if (!Thread.currentThread().isInterrupted()) {
                log.warn("heartbeat of worker={} failed: {}", workerId, StatusErrors.error(e));
            }
            return null;
        } finally {
            beating.unlock();
            if (sessionGone && mayRegister) {
                replace(workerId); // outside the lock: registering may wait out an outage
            } else if (sessionGone) {
                beatSoon(); // the heartbeat thread registers again
            }
        }
    }

    private void apply(HeartbeatResponse resp, List<RunningJob> held, String workerId, Instant sentAt) {
        Set<String> lost = new HashSet<>(resp.getLostJobIdsList());
        for (RunningJob j : held) {
            if (lost.contains(j.id()) && j.isFinished()) {
                // most likely its ack or nack reached the broker before this heartbeat; if the lease
                // was really lost, the broker refuses the result by its token: it judges, not us
                log.debug("{} no longer held according to a heartbeat; its result is already on its way", j);
            } else if (lost.contains(j.id())) {
                j.markLost();
                log.warn("lease of {} lost (expired, or the job ended elsewhere): its result will not be sent", j);
            } else {
                j.renewed(sentAt);
            }
        }
        for (String id : resp.getCanceledJobIdsList()) {
            RunningJob j = jobs.find(id, workerId);
            if (j != null && !j.isCancelled()) {
                log.info("the broker asks to cancel {}: interrupting its handler", j);
                j.cancel();
            }
        }
        pause.set(resp.getShutdownRequested());
    }

    private void replace(String staleId) {
        try {
            session.replace(staleId);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // close() stopped us mid-registration
        }
    }

    /** A beat that hangs must not hold up the next one for long. */
    private Duration deadline() {
        Duration half = session.sessionTimeout().dividedBy(2);
        return half.compareTo(callTimeout) < 0 ? half : callTimeout;
    }
}
