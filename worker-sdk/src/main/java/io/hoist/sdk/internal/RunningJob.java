package io.hoist.sdk.internal;

import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.sdk.JobContext;
import io.hoist.sdk.NonRetryableException;
import io.hoist.sdk.PayloadCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One delivery of a job to this worker, from the lease until its ack or nack is settled: the
 * handler's {@link JobContext}, and the flags the heartbeats set (cancelled, lease lost).
 * Thread-safe: the handler's thread, the heartbeat thread and the ack sender all touch it.
 */
public final class RunningJob implements JobContext {
    private static final Logger log = LoggerFactory.getLogger(RunningJob.class);

    private final LeasedJob leased;
    private final String workerId;
    private final PayloadCodec codec;
    private final LeaseKeeper keeper;
    private final Duration leaseLength;
    private volatile Instant leaseDeadline;
    private volatile boolean cancelled;
    private volatile boolean lost;
    private volatile boolean finished;
    private volatile boolean resultSent;
    private volatile Duration retryAfter;
    private Thread runner; // guarded by this: set only while the handler runs

    /** @param receivedAt when the Lease answer arrived, to estimate the lease's length */
    public RunningJob(LeasedJob leased, String workerId, PayloadCodec codec, LeaseKeeper keeper, Instant receivedAt) {
        this.leased = leased;
        this.workerId = workerId;
        this.codec = codec;
        this.keeper = keeper;
        this.leaseDeadline = ProtoMapper.instant(leased.getLeaseDeadline());
        Duration length = Duration.between(receivedAt, leaseDeadline);
        this.leaseLength = length.isNegative() ? Duration.ZERO : length;
    }

    private Job job() {
        return leased.getJob();
    }

    @Override
    public String id() {
        return job().getId();
    }

    @Override
    public String type() {
        return job().getSpec().getType();
    }

    @Override
    public String queue() {
        return job().getSpec().getQueue();
    }

    @Override
    public byte[] payload() {
        return job().getSpec().getPayload().toByteArray();
    }

    @Override
    public <T> T payload(Class<T> type) {
        try {
            return codec.decode(payload(), type);
        } catch (RuntimeException e) {
            throw new NonRetryableException(e.getMessage(), e);
        }
    }

    @Override
    public Map<String, String> headers() {
        return job().getSpec().getHeadersMap();
    }

    @Override
    public int attempt() {
        return job().getAttempt();
    }

    @Override
    public String leaseToken() {
        return leased.getLeaseToken();
    }

    @Override
    public Instant leaseDeadline() {
        return leaseDeadline;
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }

    @Override
    public boolean isLeaseLost() {
        return lost;
    }

    @Override
    public boolean extendLease() {
        return keeper.extendNow(this);
    }

    @Override
    public void progress(String message) {
        log.debug("progress job={} queue={}: {}", id(), queue(), message);
        keeper.beatSoon();
    }

    @Override
    public void retryAfter(Duration delay) {
        Objects.requireNonNull(delay, "delay");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay must not be negative, got " + delay);
        }
        this.retryAfter = delay;
    }

    /** The retry delay the handler asked for, or null. */
    Duration requestedRetryAfter() {
        return retryAfter;
    }

    /** The session this job was leased under. */
    public String workerId() {
        return workerId;
    }

    /** The broker asked to cancel: flag it and interrupt the handler if it is running. */
    public void cancel() {
        cancelled = true;
        synchronized (this) {
            if (runner != null) {
                runner.interrupt();
            }
        }
    }

    /** The broker says this worker no longer holds the job: its result must not be sent. */
    public void markLost() {
        lost = true;
    }

    /** The handler has returned (or thrown); its result is on its way to the broker. */
    void resultSent() {
        resultSent = true;
    }

    boolean isResultSent() {
        return resultSent;
    }

    void finished() {
        finished = true;
    }

    boolean isFinished() {
        return finished;
    }

    /** A heartbeat sent at {@code sentAt} that listed this job was accepted. */
    void renewed(Instant sentAt) {
        Instant next = sentAt.plus(leaseLength);
        if (next.isAfter(leaseDeadline)) {
            leaseDeadline = next;
        }
    }

    synchronized void bind(Thread thread) {
        runner = thread;
        if (cancelled) {
            thread.interrupt(); // cancelled before the handler started
        }
    }

    /** After this, {@link #cancel()} no longer interrupts the thread (which may run another job). */
    synchronized void unbind() {
        runner = null;
    }

    @Override
    public String toString() {
        return "job=" + id() + " type=" + type() + " queue=" + queue() + " attempt=" + attempt();
    }
}
