package io.hoist.sdk.internal;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.hoist.proto.v1.AckOutcome;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.AckResponse;
import io.hoist.proto.v1.AckResult;
import io.hoist.proto.v1.WorkerServiceGrpc;
import io.hoist.sdk.JobContext;
import io.hoist.sdk.WorkerListener;
import io.hoist.sdk.WorkerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The ack sender against a real gRPC server on loopback that plays a broker with a full disk. */
class AckSenderTest {
    private Server server;
    private BrokerConnection connection;
    private AckSender sender;

    @AfterEach
    void stop() throws Exception {
        if (sender != null) sender.close();
        if (connection != null) connection.close();
        if (server != null) server.shutdownNow().awaitTermination();
    }

    @Test
    void anAckRefusedForAFullDisk_isKeptAndSentAgainUntilTheBrokerTakesIt() throws Exception {
        assertSentAgainAfterTwoFailures(StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(io.grpc.Status.Code.RESOURCE_EXHAUSTED.value()).setMessage("disk full")
                .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain("hoist.io").setReason("DISK_FULL").build()))
                .build()));
    }

    @Test
    void anAckWhoseCallBrokeMidway_isSentAgain() throws Exception {
        assertSentAgainAfterTwoFailures(io.grpc.Status.UNKNOWN.withDescription("channel closed").asRuntimeException());
    }

    @Test
    void anAckRefusedForGood_isSettledAsRefused_andItsSlotComesBack() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<WorkerListener.Settlement> settled = new CopyOnWriteArrayList<>();
        RunningJobs jobs = ackOneJob((req, out) -> {
            calls.incrementAndGet();
            out.onError(io.grpc.Status.PERMISSION_DENIED.withDescription("token may not ack").asRuntimeException());
        }, settled);

        await().atMost(Duration.ofSeconds(10)).until(() -> !settled.isEmpty());
        assertThat(calls).hasValue(1); // not retried: retrying cannot fix it
        assertThat(settled).containsExactly(WorkerListener.Settlement.ACK_REFUSED);
        assertThat(jobs.size()).isZero();
    }

    private void assertSentAgainAfterTwoFailures(Throwable failure) throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<WorkerListener.Settlement> settled = new CopyOnWriteArrayList<>();
        RunningJobs jobs = ackOneJob((req, out) -> {
            if (calls.incrementAndGet() <= 2) {
                out.onError(failure);
                return;
            }
            out.onNext(AckResponse.newBuilder().addResults(AckResult.newBuilder()
                    .setJobId(req.getAcks(0).getJobId()).setOutcome(AckOutcome.ACK_OUTCOME_ACKED)).build());
            out.onCompleted();
        }, settled);

        await().atMost(Duration.ofSeconds(10)).until(() -> !settled.isEmpty());
        assertThat(calls).hasValue(3);
        assertThat(settled).containsExactly(WorkerListener.Settlement.ACKED);
        assertThat(jobs.awaitFreeSlots()).isEqualTo(1); // the slot came back with the accepted ack
    }

    /**
     * Serves {@code ack} as the broker's Ack, starts the sender against it (settlements go to
     * {@code settled}) and submits the ack of one finished job; answers the sender's jobs.
     */
    private RunningJobs ackOneJob(BiConsumer<AckRequest, StreamObserver<AckResponse>> ack,
                                  List<WorkerListener.Settlement> settled) throws Exception {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new WorkerServiceGrpc.WorkerServiceImplBase() {
                    @Override
                    public void ack(AckRequest req, StreamObserver<AckResponse> out) {
                        ack.accept(req, out);
                    }
                }).build().start();
        WorkerOptions options = WorkerOptions.builder().queues("q")
                .listener(new WorkerListener() {
                    @Override
                    public void settled(JobContext job, Settlement settlement) {
                        settled.add(settlement);
                    }
                }).build();
        connection = BrokerConnection.to(List.of("127.0.0.1:" + server.getPort()));
        RunningJobs jobs = new RunningJobs(1);
        sender = new AckSender(connection, jobs, Backoff.of(Duration.ofMillis(10), Duration.ofMillis(20)), options);
        sender.start();
        sender.submit(new AckSender.Ack(heldJob(jobs)));
        return jobs;
    }

    /** A finished run of job j1 (token t1) held by session w1. */
    private static RunningJob heldJob(RunningJobs jobs) {
        RunningJob job = RunningJobFixture.delivery("j1", "t1");
        jobs.add(job);
        job.finished();
        return job;
    }
}
