package io.hoist.sdk.internal;

import io.hoist.proto.v1.LeasedJob;
import io.hoist.sdk.JobHandler;
import io.hoist.sdk.NonRetryableException;
import io.hoist.sdk.PayloadCodec;
import io.hoist.sdk.RetryAfterException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs leased jobs' handlers on a pool of exactly {@code concurrency} threads (never more jobs
 * than slots are leased, so nothing queues) and hands each result to the {@link AckSender}:
 * returning acks; throwing nacks with the exception's message.
 */
public final class Dispatcher {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

    private final HandlerTable handlers;
    private final RunningJobs jobs;
    private final AckSender acks;
    private final LeaseKeeper keeper;
    private final PayloadCodec codec;
    private final ExecutorService pool;

    public Dispatcher(HandlerTable handlers, RunningJobs jobs, AckSender acks, LeaseKeeper keeper, PayloadCodec codec) {
        this.handlers = handlers;
        this.jobs = jobs;
        this.acks = acks;
        this.keeper = keeper;
        this.codec = codec;
        this.pool = Executors.newFixedThreadPool(jobs.capacity(), threads());
    }

    /** Takes a slot for the job and starts its handler. */
    public void dispatch(LeasedJob leased, String workerId, Instant receivedAt) {
        RunningJob job = new RunningJob(leased, workerId, codec, keeper, receivedAt);
        jobs.add(job);
        log.debug("leased {}", job);
        try {
            pool.execute(() -> run(job));
        } catch (RejectedExecutionException e) {
            log.debug("{} not started: the worker is shutting down; Deregister gives it back", job);
            jobs.remove(job);
        }
    }

    private void run(RunningJob job) {
        JobHandler handler = handlers.forType(job.type());
        if (handler == null) {
            job.finished();
            acks.submit(new AckSender.Nack(job, "no handler for type " + job.type() + " in this worker (it handles "
                    + handlers.types() + ")", true, null));
            return;
        }
        AckSender.Settlement result;
        job.bind(Thread.currentThread());
        try {
            handler.handle(job);
            result = new AckSender.Ack(job);
            log.debug("{} succeeded", job);
        } catch (NonRetryableException e) {
            result = failed(job, e, true, null);
        } catch (RetryAfterException e) {
            result = failed(job, e, false, e.delay());
        } catch (Throwable t) {
            result = failed(job, t, false, job.requestedRetryAfter());
            if (t instanceof VirtualMachineError fatal) {
                job.finished();
                acks.submit(result);
                throw fatal;
            }
        } finally {
            job.unbind();
            Thread.interrupted(); // a cancel's interrupt must not leak into the next job on this thread
        }
        job.finished();
        acks.submit(result);
    }

    private static AckSender.Nack failed(RunningJob job, Throwable t, boolean nonRetryable, Duration retryAfter) {
        log.debug("{} failed{}", job, job.isCancelled() ? " after a cancel request" : "", t);
        String message = t.getMessage() != null && !t.getMessage().isBlank() ? t.getMessage() : t.getClass().getName();
        return new AckSender.Nack(job, message, nonRetryable, retryAfter);
    }

    /** Interrupts the handlers still running (after the grace period). */
    public void shutdownNow() {
        pool.shutdownNow();
    }

    public void shutdown() {
        pool.shutdown();
    }

    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return pool.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static ThreadFactory threads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "hoist-job-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
