package io.hoist.sdk.internal;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.hoist.proto.v1.AckOutcome;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.AckResponse;
import io.hoist.proto.v1.AckResult;
import io.hoist.proto.v1.JobAck;
import io.hoist.proto.v1.NackRequest;
import io.hoist.proto.v1.NackResponse;
import io.hoist.proto.v1.WorkerServiceGrpc;
import io.hoist.sdk.WorkerListener;
import io.hoist.sdk.WorkerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends the handlers' results from one thread: the acks waiting go in one Ack call (up to
 * {@link #MAX_BATCH}), after waiting up to {@link #LINGER} for the results of handlers still
 * running, so a burst of short jobs shares one call while an idle worker sends at once; nacks
 * go one per call. Acks go up the {@link LeaseStream} while it is open for their session, and
 * by Ack calls otherwise (before the first stream, after it closed). While the broker is away it
 * retries with backoff, for as long as the worker runs: a result is given up only when the broker
 * refuses it for good, or the job's lease is known lost (then it is not sent at all). A job's
 * slot is given back to the lease loop when its result is sent; the job is let go once the
 * result is settled.
 */
public final class AckSender {
    static final int MAX_BATCH = 100;
    static final Duration LINGER = Duration.ofMillis(5);
    /** Tries after a call broke with UNKNOWN, before the result is given up. */
    static final int MAX_UNKNOWN_RETRIES = 5;
    /** How often the linger looks again whether any handler is still running. */
    private static final long LINGER_STEP_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
    private static final Logger log = LoggerFactory.getLogger(AckSender.class);

    /** A handler's result for one delivery. */
    public sealed interface Settlement permits Ack, Nack {
        RunningJob job();
    }

    public record Ack(RunningJob job) implements Settlement {
    }

    /** @param retryAfter null: the retry policy's backoff */
    public record Nack(RunningJob job, String error, boolean nonRetryable, Duration retryAfter) implements Settlement {
    }

    private final BrokerConnection connection;
    private final RunningJobs jobs;
    private final Backoff backoff;
    private final Duration callTimeout;
    private final WorkerListener listener;
    private final LinkedBlockingQueue<Settlement> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile LeaseStream stream; // null: acks go by Ack calls only

    public AckSender(BrokerConnection connection, RunningJobs jobs, Backoff backoff, WorkerOptions options) {
        this.connection = connection;
        this.jobs = jobs;
        this.backoff = backoff;
        this.callTimeout = options.callTimeout();
        this.listener = options.listener();
        this.thread = new Thread(this::run, "hoist-acks");
        thread.setDaemon(true);
    }

    /** Acks go up this stream while it is open for their session (by Ack calls otherwise). */
    void sendOn(LeaseStream stream) {
        this.stream = stream;
    }

    public void start() {
        thread.start();
    }

    public void submit(Settlement s) {
        queue.add(s);
    }

    /** Stops at once: results not sent yet are dropped (the broker releases their jobs at Deregister). */
    public void close() throws InterruptedException {
        thread.interrupt();
        thread.join(callTimeout.toMillis());
    }

    private void run() {
        try {
            while (true) {
                List<Settlement> batch = new ArrayList<>();
                batch.add(queue.take());
                queue.drainTo(batch, MAX_BATCH - batch.size());
                // wait for more only while handlers are still running: an idle worker sends at once
                long deadline = System.nanoTime() + LINGER.toNanos();
                while (batch.size() < MAX_BATCH && jobs.anyRunning()) {
                    Settlement next = queue.poll(Math.min(LINGER_STEP_NANOS, deadline - System.nanoTime()),
                            TimeUnit.NANOSECONDS);
                    if (next != null) {
                        batch.add(next);
                        queue.drainTo(batch, MAX_BATCH - batch.size());
                    } else if (System.nanoTime() - deadline >= 0) {
                        break;
                    }
                }
                send(batch);
            }
        } catch (InterruptedException e) {
            log.debug("ack sender stopped; {} results not sent", queue.size());
        }
    }

    private void send(List<Settlement> batch) throws InterruptedException {
        List<RunningJob> acks = new ArrayList<>();
        for (Settlement s : batch) {
            if (s instanceof Ack a) {
                acks.add(a.job());
            }
        }
        if (!acks.isEmpty()) {
            sendAcks(acks);
        }
        for (Settlement s : batch) {
            if (s instanceof Nack n) {
                sendNack(n);
            }
        }
    }

    private void sendAcks(List<RunningJob> batch) throws InterruptedException {
        for (int retry = 1; ; retry++) {
            List<RunningJob> held = dropLost(batch);
            if (held.isEmpty()) {
                return;
            }
            AckRequest.Builder builder = AckRequest.newBuilder().setWorkerId(held.get(0).workerId());
            held.forEach(j -> builder.addAcks(JobAck.newBuilder().setJobId(j.id()).setLeaseToken(j.leaseToken())));
            AckRequest req = builder.build();
            LeaseStream s = stream;
            LeaseStream.SentAcks streamed = s == null ? null : s.ack(req); // sent before the credits of the slots freed next
            WorkerServiceGrpc.WorkerServiceBlockingStub stub = streamed == null ? connection.worker(callTimeout) : null;
            jobs.resultsSent(held); // the lease loop may grant credits for their successors now
            try {
                AckResponse resp = streamed != null ? await(streamed.answer()) : stub.ack(req);
                connection.reachable();
                for (int i = 0; i < held.size(); i++) {
                    settled(held.get(i), resp.getResults(i));
                }
                return;
            } catch (StatusRuntimeException e) {
                if (!retrying(e, retry, streamed != null ? streamed.channel() : stub.getChannel())) {
                    log.error("{} acks refused by the broker ({}): their jobs run again when their leases expire",
                            held.size(), StatusErrors.error(e));
                    for (RunningJob j : held) {
                        listener.settled(j, WorkerListener.Settlement.ACK_REFUSED);
                        jobs.remove(j);
                    }
                    return;
                }
            }
        }
    }

    /** The answer to acks sent on the stream, or the status of their failure, within the call timeout. */
    private AckResponse await(CompletableFuture<AckResponse> answer) throws InterruptedException {
        try {
            return answer.get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException s) {
                throw s;
            }
            throw Status.INTERNAL.withCause(e.getCause()).withDescription("acks failed").asRuntimeException();
        } catch (TimeoutException e) {
            throw Status.DEADLINE_EXCEEDED.withDescription("no answer to acks on the lease stream within "
                    + callTimeout.toMillis() + " ms").asRuntimeException();
        }
    }

    private void settled(RunningJob job, AckResult result) {
        if (result.getOutcome() == AckOutcome.ACK_OUTCOME_ACKED) {
            log.debug("acked {}", job);
            listener.settled(job, WorkerListener.Settlement.ACKED);
        } else {
            log.warn("ack of {} refused ({}): its lease was lost, so its result does not count; the job runs "
                    + "again (or already did) elsewhere", job, result.getOutcome());
            listener.settled(job, WorkerListener.Settlement.ACK_REFUSED);
        }
        jobs.remove(job);
    }

    private void sendNack(Nack n) throws InterruptedException {
        RunningJob job = n.job();
        NackRequest.Builder req = NackRequest.newBuilder().setWorkerId(job.workerId()).setJobId(job.id())
                .setLeaseToken(job.leaseToken()).setError(n.error()).setNonRetryable(n.nonRetryable());
        if (n.retryAfter() != null) {
            req.setRetryAfter(ProtoMapper.duration(n.retryAfter()));
        }
        for (int retry = 1; ; retry++) {
            if (dropLost(List.of(job)).isEmpty()) {
                return;
            }
            WorkerServiceGrpc.WorkerServiceBlockingStub stub = connection.worker(callTimeout);
            jobs.resultsSent(List.of(job));
            try {
                NackResponse resp = stub.nack(req.build());
                connection.reachable();
                log.debug("nacked {}: now {}", job, resp.getState());
                listener.settled(job, WorkerListener.Settlement.NACKED);
                break;
            } catch (StatusRuntimeException e) {
                if (!retrying(e, retry, stub.getChannel())) {
                    log.warn("nack of {} refused ({})", job, StatusErrors.error(e));
                    listener.settled(job, WorkerListener.Settlement.NACK_REFUSED);
                    break;
                }
            }
        }
        jobs.remove(job);
    }

    /** True if the call should be tried again (after the backoff, already slept here). */
    private boolean retrying(StatusRuntimeException e, int retry, Channel used) throws InterruptedException {
        if (e.getStatus().getCode() == Status.Code.CANCELLED && Thread.interrupted()) {
            throw new InterruptedException("ack sender stopped during a call");
        }
        if (StatusErrors.isDiskFull(e)) {
            backoff.sleep(retry); // the same broker takes the result once it has space again: keep it
            return true;
        }
        if (e.getStatus().getCode() == Status.Code.UNKNOWN && retry < MAX_UNKNOWN_RETRIES) {
            // the call broke mid-way (a broker killed during it: "channel closed"); it may or may not
            // have been applied, and sending the same result again is harmless (an accepted ack with the
            // same token is ACKED again), so send it again rather than lose it
            backoff.sleep(retry);
            return true;
        }
        if (!StatusErrors.isTransient(e)) {
            return false;
        }
        connection.failover(e, used);
        backoff.sleep(retry);
        return true;
    }

    /** The jobs whose lease is not known lost; the others are settled without a word to the broker. */
    private List<RunningJob> dropLost(List<RunningJob> batch) {
        List<RunningJob> held = new ArrayList<>(batch.size());
        for (RunningJob j : batch) {
            if (j.isLeaseLost()) {
                log.debug("result of {} not sent: its lease is lost", j);
                listener.settled(j, WorkerListener.Settlement.NOT_SENT);
                jobs.remove(j);
            } else {
                held.add(j);
            }
        }
        return held;
    }
}
