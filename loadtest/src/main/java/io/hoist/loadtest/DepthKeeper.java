package io.hoist.loadtest;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.EnqueueResponse;
import io.hoist.proto.v1.JobServiceGrpc;
import io.hoist.proto.v1.JobSpec;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Holds a queue at the depth it had when started: for every job a consumer acks, one more job is
 * enqueued, in batches of at most {@link #BATCH} with at most {@link #IN_FLIGHT} calls unanswered.
 * The backlog scenario runs one beside every measured drain, at depth 1,000 and at the full
 * backlog alike, so that both measure the same mix of work (lease + ack + enqueue per job) and
 * only the depth differs. One thread; {@link #close()} catches up with the last acks and waits for
 * the answers, so the depth after a round is the depth before it.
 */
final class DepthKeeper implements AutoCloseable {
    static final int BATCH = 100;
    static final int IN_FLIGHT = 4;
    private static final long IDLE_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    private final ManagedChannel channel;
    private final JobSpec spec;
    private final LongSupplier consumed;
    private final Semaphore window = new Semaphore(IN_FLIGHT);
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicReference<Throwable> firstError = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean running = true;

    /** @param consumed jobs taken from the queue so far (the drainer's acked count) */
    DepthKeeper(String target, String queue, ByteString payload, LongSupplier consumed) {
        this.channel = Channels.openConnected(target);
        this.spec = JobSpec.newBuilder().setQueue(queue).setType(Enqueuer.JOB_TYPE).setPayload(payload).build();
        this.consumed = consumed;
        this.thread = new Thread(this::run, "loadtest-depth-keeper");
        thread.setDaemon(true);
        thread.start();
    }

    /** Jobs enqueued to replace consumed ones (sent; {@link #failed()} of them were refused). */
    long added() {
        return sent.get();
    }

    long failed() {
        return failed.get();
    }

    private void run() {
        JobServiceGrpc.JobServiceStub stub = JobServiceGrpc.newStub(channel);
        try {
            while (true) {
                long deficit = consumed.getAsLong() - sent.get();
                if (deficit <= 0) {
                    if (!running) return; // caught up with the last acks: the depth is what it was
                    LockSupport.parkNanos(IDLE_PARK_NANOS); // nothing consumed since the last batch
                    continue;
                }
                if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) continue;
                int n = (int) Math.min(BATCH, deficit);
                EnqueueRequest.Builder req = EnqueueRequest.newBuilder();
                for (int i = 0; i < n; i++) req.addJobs(spec);
                sent.addAndGet(n);
                stub.enqueue(req.build(), answer(n));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private StreamObserver<EnqueueResponse> answer(int jobs) {
        return new StreamObserver<>() {
            @Override
            public void onNext(EnqueueResponse r) {
                if (r.getJobsCount() != jobs) failed.addAndGet(jobs - r.getJobsCount());
            }

            @Override
            public void onError(Throwable t) {
                failed.addAndGet(jobs);
                firstError.compareAndSet(null, t);
                window.release();
            }

            @Override
            public void onCompleted() {
                window.release();
            }
        };
    }

    /** Tops up what the consumers acked until now, waits for those answers, and stops. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(TimeUnit.SECONDS.toMillis(30));
        if (thread.isAlive()) {
            thread.interrupt(); // the broker stopped answering: give up on the rest
            thread.join(TimeUnit.SECONDS.toMillis(1));
        }
        window.tryAcquire(IN_FLIGHT, 10, TimeUnit.SECONDS); // every answer is in once all permits are back
        Channels.close(channel);
        if (firstError.get() != null) System.err.println("hoist-loadtest: topping up the queue failed: " + firstError.get());
    }
}
