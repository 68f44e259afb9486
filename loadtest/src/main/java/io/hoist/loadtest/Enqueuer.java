package io.hoist.loadtest;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.EnqueueResponse;
import io.hoist.proto.v1.EnqueueStreamRequest;
import io.hoist.proto.v1.EnqueueStreamResponse;
import io.hoist.proto.v1.JobServiceGrpc;
import io.hoist.proto.v1.JobSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * W1 and the prefill of W2: {@code producers} threads, each on its own channel with at most
 * {@code inFlight} Enqueue calls unanswered, each call carrying {@code batch} jobs (or, with
 * {@code stream}, as many unanswered requests on one EnqueueStream). Raw async stubs,
 * not HoistClient: the SDK's enqueue blocks, so 64 calls in flight would take 64 threads a producer.
 */
final class Enqueuer {
    static final String JOB_TYPE = "loadtest";

    private final String target;
    private final String queue;
    private final int producers;
    private final int inFlight;
    private final int batch;
    private final ByteString payload;
    private final boolean stream;

    final AtomicLong stored = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    private final AtomicReference<Throwable> firstError = new AtomicReference<>();

    Enqueuer(String target, String queue, int producers, int inFlight, int batch, int payloadBytes) {
        this(target, queue, producers, inFlight, batch, payloadBytes, false);
    }

    /** @param stream one EnqueueStream per producer instead of one Enqueue call per batch */
    Enqueuer(String target, String queue, int producers, int inFlight, int batch, int payloadBytes, boolean stream) {
        this.stream = stream;
        this.target = target;
        this.queue = queue;
        this.producers = producers;
        this.inFlight = inFlight;
        this.batch = batch;
        this.payload = randomPayload(payloadBytes);
    }

    /** Random bytes, shared by every job: a ByteString is immutable, and per-job copies would measure the client. */
    static ByteString randomPayload(int bytes) {
        byte[] b = new byte[bytes];
        new SplittableRandom(42).nextBytes(b);
        return ByteString.copyFrom(b);
    }

    /** Enqueues {@code jobs} jobs and returns the nanoseconds from the first call to the last answer. */
    long run(long jobs, long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        List<ManagedChannel> channels = new ArrayList<>();
        for (int p = 0; p < producers; p++) channels.add(Channels.openConnected(target));
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int p = 0; p < producers; p++) {
            long share = jobs / producers + (p < jobs % producers ? 1 : 0);
            ManagedChannel channel = channels.get(p);
            Runnable producer = stream ? () -> produceOnStream(channel, share, deadline)
                    : () -> produce(channel, share, deadline);
            Thread t = new Thread(producer, "loadtest-producer-" + p);
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) + 1000));
        long elapsed = System.nanoTime() - start;
        Throwable e = firstError.get();
        if (e != null) System.err.println("hoist-loadtest: enqueue failed: " + e);
        return elapsed;
    }

    private void produce(ManagedChannel channel, long count, long deadline) {
        JobServiceGrpc.JobServiceStub stub = JobServiceGrpc.newStub(channel);
        Semaphore window = new Semaphore(inFlight);
        JobSpec spec = JobSpec.newBuilder().setQueue(queue).setType(JOB_TYPE).setPayload(payload).build();
        try {
            for (long sent = 0; sent < count; ) {
                int n = (int) Math.min(batch, count - sent);
                if (!window.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    failed.addAndGet(count - sent); // timed out: the rest is never sent
                    break;
                }
                EnqueueRequest.Builder req = EnqueueRequest.newBuilder();
                for (int i = 0; i < n; i++) req.addJobs(spec);
                stub.enqueue(req.build(), answer(n, window));
                sent += n;
            }
            // every answer is in once all permits are back
            window.tryAcquire(inFlight, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Channels.close(channel);
        }
    }

    /** The same window of unanswered batches, on one EnqueueStream: answers carry the batch's request id. */
    private void produceOnStream(ManagedChannel channel, long count, long deadline) {
        Semaphore window = new Semaphore(inFlight);
        JobSpec spec = JobSpec.newBuilder().setQueue(queue).setType(JOB_TYPE).setPayload(payload).build();
        CountDownLatch closed = new CountDownLatch(1);
        StreamObserver<EnqueueStreamRequest> requests = JobServiceGrpc.newStub(channel).enqueueStream(new StreamObserver<>() {
            @Override
            public void onNext(EnqueueStreamResponse r) {
                if (r.hasError()) {
                    failed.addAndGet(batch);
                    firstError.compareAndSet(null, new IllegalStateException(r.getError().toString()));
                } else {
                    stored.addAndGet(r.getJobsCount());
                }
                window.release();
            }

            @Override
            public void onError(Throwable t) {
                firstError.compareAndSet(null, t);
                window.release(inFlight); // the stream is gone: nothing more will be answered
                closed.countDown();
            }

            @Override
            public void onCompleted() {
                closed.countDown();
            }
        });
        try {
            long sent = 0;
            for (long id = 0; sent < count; id++) {
                int n = (int) Math.min(batch, count - sent);
                if (!window.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    break;
                }
                EnqueueStreamRequest.Builder req = EnqueueStreamRequest.newBuilder().setRequestId(id);
                for (int i = 0; i < n; i++) req.addJobs(spec);
                synchronized (requests) { // the answers' thread never sends, but keep the observer single-writer
                    requests.onNext(req.build());
                }
                sent += n;
            }
            requests.onCompleted();
            closed.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (sent < count) failed.addAndGet(count - sent); // timed out or the stream failed: never sent
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Channels.close(channel);
        }
    }

    private StreamObserver<EnqueueResponse> answer(int jobs, Semaphore window) {
        return new StreamObserver<>() {
            @Override
            public void onNext(EnqueueResponse r) {
                stored.addAndGet(r.getJobsCount());
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
}
