package io.hoist.sdk.internal;

import com.google.protobuf.Duration;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.hoist.proto.v1.AckOutcome;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.AckResponse;
import io.hoist.proto.v1.AckResult;
import io.hoist.proto.v1.DeregisterRequest;
import io.hoist.proto.v1.DeregisterResponse;
import io.hoist.proto.v1.HeartbeatRequest;
import io.hoist.proto.v1.HeartbeatResponse;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.LeaseResponse;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.RegisterResponse;
import io.hoist.proto.v1.StreamError;
import io.hoist.proto.v1.WorkerServiceGrpc;
import io.hoist.proto.v1.WorkerStreamAcks;
import io.hoist.proto.v1.WorkerStreamRequest;
import io.hoist.proto.v1.WorkerStreamResponse;
import io.hoist.sdk.JobContext;
import io.hoist.sdk.Worker;
import io.hoist.sdk.WorkerListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The worker's stream against a real gRPC server on loopback that plays the broker: acks go up
 * the stream (no Ack call), the slot they free is granted again, and acks whose answer is a
 * failure are sent again after the backoff rather than dropped.
 */
class LeaseStreamTest {
    private Server server;
    private Worker worker;

    @AfterEach
    void stop() throws Exception {
        if (worker != null) worker.close();
        if (server != null) server.shutdownNow().awaitTermination();
    }

    @Test
    void acksRefusedForAFullDisk_onTheStream_areSentAgain_andTheFreedSlotIsGrantedOnce() throws Exception {
        FakeBroker broker = new FakeBroker(2); // the first two answers to acks: DISK_FULL
        List<WorkerListener.Settlement> settled = start(broker);

        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !settled.isEmpty());
        assertThat(settled).containsExactly(WorkerListener.Settlement.ACKED);
        assertThat(broker.ackMessages).hasValue(3);
        assertThat(broker.unaryAcks).hasValue(0);
        // one credit at the start, one more for the slot the first ack freed; the resends free nothing more
        assertThat(broker.firstCredits).hasValue(1);
        await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(broker.laterCredits).containsExactly(1));
    }

    @Test
    void acksOnAStreamThatEndsBeforeAnsweringThem_areStillSettled() throws Exception {
        FakeBroker broker = new FakeBroker(0);
        broker.endStreamAtFirstAck = true; // as when the session expired while the worker was frozen
        List<WorkerListener.Settlement> settled = start(broker);

        // sent again once the session is registered anew: by then known lost (not sent) or acked; never dropped unheard
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !settled.isEmpty());
        assertThat(settled).singleElement().isIn(WorkerListener.Settlement.NOT_SENT, WorkerListener.Settlement.ACKED);
    }

    /** Serves {@code broker} and starts a worker of one slot against it; answers what the worker settles. */
    private List<WorkerListener.Settlement> start(FakeBroker broker) throws Exception {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(broker).build().start();
        List<WorkerListener.Settlement> settled = new CopyOnWriteArrayList<>();
        worker = Worker.builder().target("127.0.0.1:" + server.getPort()).queues("q").concurrency(1)
                .reconnectBackoff(java.time.Duration.ofMillis(10), java.time.Duration.ofMillis(20))
                .listener(new WorkerListener() {
                    @Override
                    public void settled(JobContext job, Settlement settlement) {
                        settled.add(settlement);
                    }
                })
                .handle("t", ctx -> { })
                .build().start();
        return settled;
    }

    /** Register, heartbeat and deregister answer plainly; the first stream pushes one job at its first message. */
    private static final class FakeBroker extends WorkerServiceGrpc.WorkerServiceImplBase {
        final AtomicInteger ackMessages = new AtomicInteger();
        final AtomicInteger unaryAcks = new AtomicInteger();
        final AtomicInteger firstCredits = new AtomicInteger();
        final List<Integer> laterCredits = new CopyOnWriteArrayList<>();
        private final int failures;
        volatile boolean endStreamAtFirstAck;
        private final AtomicInteger registrations = new AtomicInteger();
        private final java.util.concurrent.atomic.AtomicBoolean pushed = new java.util.concurrent.atomic.AtomicBoolean();

        FakeBroker(int failures) {
            this.failures = failures;
        }

        @Override
        public void register(RegisterRequest req, StreamObserver<RegisterResponse> out) {
            out.onNext(RegisterResponse.newBuilder().setWorkerId("w" + registrations.incrementAndGet())
                    .setHeartbeatInterval(Duration.newBuilder().setSeconds(1))
                    .setSessionTimeout(Duration.newBuilder().setSeconds(10)).build());
            out.onCompleted();
        }

        @Override
        public void heartbeat(HeartbeatRequest req, StreamObserver<HeartbeatResponse> out) {
            out.onNext(HeartbeatResponse.getDefaultInstance());
            out.onCompleted();
        }

        @Override
        public void deregister(DeregisterRequest req, StreamObserver<DeregisterResponse> out) {
            out.onNext(DeregisterResponse.getDefaultInstance());
            out.onCompleted();
        }

        @Override
        public void ack(AckRequest req, StreamObserver<AckResponse> out) {
            unaryAcks.incrementAndGet();
            AckResponse.Builder answer = AckResponse.newBuilder();
            req.getAcksList().forEach(a -> answer.addResults(AckResult.newBuilder().setJobId(a.getJobId())
                    .setOutcome(AckOutcome.ACK_OUTCOME_ACKED)));
            out.onNext(answer.build());
            out.onCompleted();
        }

        @Override
        public StreamObserver<WorkerStreamRequest> workerStream(StreamObserver<WorkerStreamResponse> out) {
            return new StreamObserver<>() {
                @Override
                public synchronized void onNext(WorkerStreamRequest req) {
                    if (!req.getWorkerId().isEmpty()) {
                        firstCredits.compareAndSet(0, req.getCredits());
                        if (pushed.getAndSet(true)) {
                            return; // one job in all, on the first stream
                        }
                        out.onNext(WorkerStreamResponse.newBuilder().setLeased(LeaseResponse.newBuilder()
                                .addJobs(LeasedJob.newBuilder().setLeaseToken("t1").setJob(Job.newBuilder().setId("j1")
                                        .setAttempt(1).setSpec(JobSpec.newBuilder().setQueue("q").setType("t"))))).build());
                        return;
                    }
                    if (req.getCredits() > 0) {
                        laterCredits.add(req.getCredits());
                    }
                    if (req.getAcksCount() == 0) {
                        return;
                    }
                    if (endStreamAtFirstAck && ackMessages.getAndIncrement() == 0) {
                        out.onError(io.grpc.Status.NOT_FOUND.withDescription("worker session w1 not found").asRuntimeException());
                        return;
                    }
                    WorkerStreamAcks.Builder answer = WorkerStreamAcks.newBuilder().setRequestId(req.getRequestId());
                    if (ackMessages.incrementAndGet() <= failures) {
                        answer.setError(StreamError.newBuilder().setCode(io.grpc.Status.Code.RESOURCE_EXHAUSTED.value())
                                .setReason("DISK_FULL").setMessage("disk full"));
                    } else {
                        answer.addResults(AckResult.newBuilder().setJobId(req.getAcks(0).getJobId())
                                .setOutcome(AckOutcome.ACK_OUTCOME_ACKED));
                    }
                    out.onNext(WorkerStreamResponse.newBuilder().setAcked(answer).build());
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    out.onCompleted();
                }
            };
        }
    }
}
