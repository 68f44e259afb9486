package io.hoist.sdk.internal;

import io.hoist.proto.v1.RegisterRequest;
import io.hoist.sdk.WorkerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of a worker: makes its parts and wires them, starts them in order, and
 * closes them through the {@link ShutdownSequence}. Threads: one lease loop, one heartbeat
 * thread, one ack sender, and {@code concurrency} handler threads.
 */
public final class WorkerRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkerRuntime.class);

    final WorkerOptions options;
    final BrokerConnection connection;
    final WorkerSession session;
    final RunningJobs jobs;
    final AckSender acks;
    final Heartbeater heartbeater;
    final Dispatcher dispatcher;
    final LeaseLoop leaseLoop;
    private boolean started;
    private boolean closed;

    public WorkerRuntime(WorkerOptions options, HandlerTable handlers) {
        this.options = options;
        this.connection = options.channel().map(c -> BrokerConnection.over(c, options.security()))
                .orElseGet(() -> BrokerConnection.to(options.targets(), options.security()));
        Backoff backoff = Backoff.of(options.reconnectInitialBackoff(), options.reconnectMaxBackoff());
        this.jobs = new RunningJobs(options.concurrency());
        RegisterRequest registration = RegisterRequest.newBuilder().setName(options.name())
                .addAllQueues(options.queues()).setConcurrency(options.concurrency()).putAllLabels(options.labels())
                .build();
        this.session = new WorkerSession(connection, registration, jobs, backoff, options);
        LeasePause pause = new LeasePause();
        this.acks = new AckSender(connection, jobs, backoff, options);
        this.heartbeater = new Heartbeater(connection, session, jobs, pause, options.callTimeout());
        this.dispatcher = new Dispatcher(handlers, jobs, acks, heartbeater, options.codec());
        this.leaseLoop = new LeaseLoop(connection, session, jobs, dispatcher,
                new LeaseLoop.Settings(options.queues(), options.callTimeout(), backoff, pause));
        acks.sendOn(leaseLoop.stream());
    }

    /**
     * Registers (one try: if the broker is away, the lease loop keeps trying) and starts the
     * threads.
     *
     * @throws io.hoist.sdk.HoistException if the broker refuses the registration (e.g. a bad queue name)
     */
    public synchronized void start() {
        if (started || closed) {
            throw new IllegalStateException(closed ? "the worker is closed" : "the worker is already started");
        }
        log.info("starting worker name={} queues={} concurrency={} brokers={}", options.name(), options.queues(),
                options.concurrency(), options.channel().isPresent() ? "[given channel]" : options.targets());
        try {
            if (!session.tryRegister()) {
                log.warn("broker {} unreachable at start: registering in the background", connection.target());
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        started = true;
        acks.start();
        heartbeater.start();
        leaseLoop.start();
    }

    public synchronized boolean isRunning() {
        return started && !closed;
    }

    /** Test hook: stop (or resume) sending heartbeats, as if the worker were frozen. */
    public void suspendHeartbeats(boolean suspend) {
        heartbeater.suspend(suspend);
    }

    public String workerId() {
        return session.workerId();
    }

    public int runningJobs() {
        return jobs.size();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (started) {
            new ShutdownSequence(this).run(options.gracePeriod());
        } else {
            dispatcher.shutdownNow();
            connection.close();
        }
    }
}
