package io.hoist.loadtest;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.EnqueueResponse;
import io.hoist.proto.v1.JobServiceGrpc;
import io.hoist.proto.v1.JobSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * W1 and the prefill of W2: {@code producers} threads, each on its own channel with at most
 * {@code inFlight} Enqueue calls unanswered, each call carrying {@code batch} jobs. Raw async stubs,
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

    final AtomicLong stored = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    private final AtomicReference<Throwable> firstError = new AtomicReference<>();

    Enqueuer(String target, String queue, int producers, int inFlight, int batch, int payloadBytes) {
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
            Thread t = new Thread(() -> produce(channel, share, deadline), "loadtest-producer-" + p);
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
