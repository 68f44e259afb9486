package io.hoist.sdk.internal;

import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.hoist.proto.v1.DeregisterRequest;
import io.hoist.proto.v1.DeregisterResponse;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.RegisterResponse;
import io.hoist.proto.v1.WorkerServiceGrpc;
import io.hoist.sdk.WorkerListener;
import io.hoist.sdk.WorkerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * This worker's session with the broker: its id and the heartbeat terms the broker gave at
 * Register. Registration is serialized here; reads ({@link #workerId()}) never block.
 * When the broker forgets the session, {@link #replace} marks the jobs leased under it as lost
 * (the broker has already released them) and registers again. The lock is taken
 * interruptibly where the wait can be long, so that shutdown can stop a thread stuck registering
 * while the broker is away.
 */
public final class WorkerSession {
    private static final Logger log = LoggerFactory.getLogger(WorkerSession.class);

    private final BrokerConnection connection;
    private final RegisterRequest registration;
    private final RunningJobs jobs;
    private final Backoff backoff;
    private final Duration callTimeout;
    private final WorkerListener listener;
    private final ReentrantLock registering = new ReentrantLock();
    private Channel lastChannel; // guarded by registering
    private volatile String workerId;
    private volatile Duration heartbeatInterval = Duration.ofSeconds(2);
    private volatile Duration sessionTimeout = Duration.ofSeconds(10);

    public WorkerSession(BrokerConnection connection, RegisterRequest registration, RunningJobs jobs, Backoff backoff,
                         WorkerOptions options) {
        this.connection = connection;
        this.registration = registration;
        this.jobs = jobs;
        this.backoff = backoff;
        this.callTimeout = options.callTimeout();
        this.listener = options.listener();
    }

    /** The current session's id, or null while unregistered. */
    public String workerId() {
        return workerId;
    }

    public Duration heartbeatInterval() {
        return heartbeatInterval;
    }

    public Duration sessionTimeout() {
        return sessionTimeout;
    }

    /**
     * One try, for {@code Worker.start()}: false if the broker is away (the lease loop keeps
     * trying); any other refusal (a bad queue name…) is thrown, since retrying cannot fix it.
     */
    public boolean tryRegister() {
        registering.lock();
        try {
            if (workerId == null) {
                register();
            }
            return true;
        } catch (StatusRuntimeException e) {
            if (StatusErrors.isTransient(e)) {
                connection.failover(e, lastChannel);
                return false;
            }
            throw StatusErrors.toException(e);
        } finally {
            registering.unlock();
        }
    }

    /** Registers unless registered, retrying with backoff for as long as it takes; answers the id. */
    public String ensureRegistered() throws InterruptedException {
        registering.lockInterruptibly();
        try {
            for (int retry = 1; workerId == null; retry++) {
                try {
                    register();
                } catch (StatusRuntimeException e) {
                    if (StatusErrors.isTransient(e)) {
                        connection.failover(e, lastChannel);
                    } else {
                        log.error("the broker refused to register this worker: {}", StatusErrors.error(e));
                    }
                    backoff.sleep(retry);
                }
            }
            return workerId;
        } finally {
            registering.unlock();
        }
    }

    /**
     * The broker answered NOT_FOUND for session {@code staleId}: it expired (or the broker lost
     * it). Its leases are gone, so the jobs held under it are lost; register again. A no-op if
     * another thread already replaced that session.
     */
    public String replace(String staleId) throws InterruptedException {
        registering.lockInterruptibly();
        try {
            if (staleId.equals(workerId)) {
                List<RunningJob> lost = jobs.heldBy(staleId);
                lost.forEach(RunningJob::markLost);
                log.info("broker no longer knows worker={} (its session expired): registering again; {} running "
                        + "jobs are lost to it and their results will not be sent", staleId, lost.size());
                workerId = null;
            }
            return ensureRegistered(); // reentrant
        } finally {
            registering.unlock();
        }
    }

    private void register() {
        WorkerServiceGrpc.WorkerServiceBlockingStub stub = connection.worker(callTimeout);
        lastChannel = stub.getChannel();
        RegisterResponse r = stub.register(registration);
        connection.reachable();
        heartbeatInterval = positiveOr(ProtoMapper.duration(r.getHeartbeatInterval()), Duration.ofSeconds(2));
        sessionTimeout = positiveOr(ProtoMapper.duration(r.getSessionTimeout()), Duration.ofSeconds(10));
        workerId = r.getWorkerId();
        log.info("registered worker={} name={} queues={} concurrency={} with broker {}: heartbeat every {} ms, "
                        + "session timeout {} ms", workerId, registration.getName(), registration.getQueuesList(),
                registration.getConcurrency(), connection.target(), heartbeatInterval.toMillis(),
                sessionTimeout.toMillis());
        listener.registered(workerId);
    }

    /** Graceful exit: the broker gives back the jobs still held, uncharged. One try. */
    public void deregister() {
        registering.lock();
        String id = workerId;
        workerId = null;
        registering.unlock();
        if (id == null) {
            return;
        }
        try {
            DeregisterResponse r = connection.worker(callTimeout)
                    .deregister(DeregisterRequest.newBuilder().setWorkerId(id).build());
            log.info("deregistered worker={}: the broker released {} jobs it still held", id, r.getReleased());
        } catch (StatusRuntimeException e) {
            log.warn("deregister of worker={} failed ({}): the broker releases its jobs when its session times out",
                    id, StatusErrors.error(e));
        }
    }

    private static Duration positiveOr(Duration d, Duration fallback) {
        return d.isZero() || d.isNegative() ? fallback : d;
    }
}
