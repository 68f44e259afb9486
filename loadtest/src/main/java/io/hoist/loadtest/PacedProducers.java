package io.hoist.loadtest;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.EnqueueResponse;
import io.hoist.proto.v1.EnqueueStreamRequest;
import io.hoist.proto.v1.EnqueueStreamResponse;
import io.hoist.proto.v1.JobServiceGrpc;
import io.hoist.proto.v1.JobSpec;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The producers of W3: job i goes out at {@link RateSchedule#intendedNanos(long)}, one job per
 * Enqueue call (or, with {@code stream}, per request on the producer's one EnqueueStream), its
 * payload starting with that intended time (System.nanoTime of this JVM, which also runs the
 * consumers). Producer p sends jobs p, p + producers, ...
 */
final class PacedProducers {
    private final String target;
    private final String queue;
    private final int producers;
    private final int inFlight;
    private final byte[] filler;
    private final RateSchedule schedule;
    private final boolean stream;

    final AtomicLong stored = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    private final AtomicReference<Throwable> firstError = new AtomicReference<>();

    PacedProducers(String target, String queue, int producers, int inFlight, int payloadBytes, RateSchedule schedule,
                   boolean stream) {
        this.target = target;
        this.queue = queue;
        this.producers = producers;
        this.inFlight = inFlight;
        this.filler = Enqueuer.randomPayload(Math.max(Long.BYTES, payloadBytes)).toByteArray();
        this.schedule = schedule;
        this.stream = stream;
    }

    /** Sends every job of the schedule, then waits for the last answers. */
    void run(long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int index = p;
            Thread t = new Thread(() -> produce(index, deadline), "loadtest-paced-producer-" + p);
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) t.join();
        if (firstError.get() != null) System.err.println("hoist-loadtest: enqueue failed: " + firstError.get());
    }

    private void produce(int index, long deadline) {
        ManagedChannel channel = Channels.open(target);
        JobServiceGrpc.JobServiceStub stub = JobServiceGrpc.newStub(channel);
        Semaphore window = new Semaphore(inFlight);
        StreamObserver<EnqueueStreamRequest> requests = stream ? stub.enqueueStream(streamAnswers(window)) : null;
        JobSpec.Builder spec = JobSpec.newBuilder().setQueue(queue).setType(Enqueuer.JOB_TYPE);
        try {
            for (long i = index; i < schedule.jobs(); i += producers) {
                long intended = schedule.intendedNanos(i);
                long wait;
                while ((wait = intended - System.nanoTime()) > 0) LockSupport.parkNanos(wait);
                if (!window.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    failed.addAndGet((schedule.jobs() - 1 - i) / producers + 1); // over time: the rest is never sent
                    break;
                }
                spec.setPayload(stamped(intended));
                if (requests != null) {
                    requests.onNext(EnqueueStreamRequest.newBuilder().setRequestId(i).addJobs(spec.build()).build());
                } else {
                    stub.enqueue(EnqueueRequest.newBuilder().addJobs(spec.build()).build(), answer(window));
                }
            }
            window.tryAcquire(inFlight, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (requests != null) {
                requests.onCompleted();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Channels.close(channel);
        }
    }

    /** The answers of one producer's EnqueueStream, one per job; a broken stream answers nothing more. */
    private StreamObserver<EnqueueStreamResponse> streamAnswers(Semaphore window) {
        return new StreamObserver<>() {
            @Override
            public void onNext(EnqueueStreamResponse r) {
                if (r.hasError()) {
                    failed.incrementAndGet();
                    firstError.compareAndSet(null, new IllegalStateException(r.getError().toString()));
                } else {
                    stored.addAndGet(r.getJobsCount());
                }
                window.release();
            }

            @Override
            public void onError(Throwable t) {
                firstError.compareAndSet(null, t);
                window.release(inFlight);
            }

            @Override
            public void onCompleted() {
            }
        };
    }

    /** The filler with the intended send time in its first eight bytes; a fresh array, as the job keeps it. */
    private ByteString stamped(long intendedNanos) {
        byte[] body = filler.clone();
        ByteBuffer.wrap(body).putLong(intendedNanos);
        return UnsafeByteOperations.unsafeWrap(body);
    }

    private StreamObserver<EnqueueResponse> answer(Semaphore window) {
        return new StreamObserver<>() {
            @Override
            public void onNext(EnqueueResponse r) {
                stored.addAndGet(r.getJobsCount());
            }

            @Override
            public void onError(Throwable t) {
                failed.incrementAndGet();
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
