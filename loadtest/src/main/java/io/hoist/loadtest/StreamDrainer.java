package io.hoist.loadtest;

import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.hoist.proto.v1.AckOutcome;
import io.hoist.proto.v1.AckResult;
import io.hoist.proto.v1.DeregisterRequest;
import io.hoist.proto.v1.JobAck;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.WorkerServiceGrpc;
import io.hoist.proto.v1.WorkerStreamRequest;
import io.hoist.proto.v1.WorkerStreamResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * W2 on the WorkerStream RPC, with no SDK: each consumer registers, opens one stream granting
 * {@code inFlight} credits, and answers each push of jobs with one message holding their acks and
 * as many credits again, from the transport's thread. A job counts once the broker has accepted
 * its ack; the stream is half-closed once the run's count is reached.
 */
final class StreamDrainer extends Drainer {
    private final AtomicReference<Throwable> firstError = new AtomicReference<>();

    StreamDrainer(String target, String queue, int consumers, int inFlight) {
        super(target, queue, consumers, inFlight);
    }

    @Override
    protected void drain(long jobs, long deadlineNanos) throws InterruptedException {
        List<ManagedChannel> channels = new ArrayList<>();
        List<Consumer> streams = new ArrayList<>();
        try {
            for (int i = 0; i < consumers; i++) {
                ManagedChannel channel = Channels.open(target);
                channels.add(channel);
                streams.add(new Consumer(channel, i));
            }
            awaitAllAcked(deadlineNanos);
            for (Consumer c : streams) {
                c.halfClose(); // leasing stops; the stream ends once its last acks are answered
            }
            for (Consumer c : streams) {
                c.ended.await(5, TimeUnit.SECONDS);
            }
        } catch (RuntimeException e) {
            firstError.compareAndSet(null, e);
        } finally {
            for (Consumer c : streams) c.close();
            channels.forEach(Channels::close);
        }
        if (firstError.get() != null) System.err.println("hoist-loadtest: stream consumer failed: " + firstError.get());
    }

    /**
     * One session and its stream. Its callbacks run on the channel's event loop; sending is
     * synchronized, as the run's thread half-closes the stream.
     */
    private final class Consumer implements StreamObserver<WorkerStreamResponse> {
        final CountDownLatch ended = new CountDownLatch(1);
        private final WorkerServiceGrpc.WorkerServiceBlockingStub stub;
        private final String workerId;
        private final StreamObserver<WorkerStreamRequest> requests;
        private long nextRequestId;
        private boolean halfClosed;

        Consumer(ManagedChannel channel, int index) {
            this.stub = WorkerServiceGrpc.newBlockingStub(channel);
            this.workerId = stub.withDeadlineAfter(10, TimeUnit.SECONDS).register(RegisterRequest.newBuilder()
                    .setName("loadtest-stream-" + index).addQueues(queue).setConcurrency(inFlight).build()).getWorkerId();
            this.requests = WorkerServiceGrpc.newStub(channel).workerStream(this);
            requests.onNext(WorkerStreamRequest.newBuilder().setWorkerId(workerId).addQueues(queue)
                    .setCredits(inFlight).build());
        }

        @Override
        public synchronized void onNext(WorkerStreamResponse response) {
            if (response.hasLeased()) {
                if (halfClosed) {
                    return; // leased as the stream closed: Deregister hands them back
                }
                WorkerStreamRequest.Builder ack = WorkerStreamRequest.newBuilder().setRequestId(nextRequestId++);
                for (LeasedJob j : response.getLeased().getJobsList()) {
                    ack.addAcks(JobAck.newBuilder().setJobId(j.getJob().getId()).setLeaseToken(j.getLeaseToken()));
                }
                ack.setCredits(ack.getAcksCount());
                requests.onNext(ack.build());
            } else if (response.getAcked().hasError()) {
                firstError.compareAndSet(null, new IllegalStateException("acks failed: " + response.getAcked().getError()));
            } else {
                for (AckResult r : response.getAcked().getResultsList()) {
                    if (r.getOutcome() == AckOutcome.ACK_OUTCOME_ACKED) {
                        ackAccepted();
                    } else {
                        ackRefused();
                    }
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            firstError.compareAndSet(null, t);
            stopWaiting();
            ended.countDown();
        }

        synchronized void halfClose() {
            if (!halfClosed) {
                halfClosed = true;
                requests.onCompleted();
            }
        }

        @Override
        public void onCompleted() {
            ended.countDown();
        }

        /** Hands back anything still held (nothing, normally), so no job waits out a lease. */
        void close() {
            try {
                stub.withDeadlineAfter(5, TimeUnit.SECONDS).deregister(DeregisterRequest.newBuilder().setWorkerId(workerId).build());
            } catch (RuntimeException e) {
                System.err.println("hoist-loadtest: deregister failed: " + e);
            }
        }
    }
}
