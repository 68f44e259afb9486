package io.hoist.broker.grpc;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.CancelJobRequest;
import io.hoist.proto.v1.DeregisterRequest;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.GetJobRequest;
import io.hoist.proto.v1.HeartbeatRequest;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.NackRequest;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.RetryPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.time.Instant;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static io.hoist.broker.grpc.BrokerFixture.millis;
import static io.hoist.broker.grpc.BrokerFixture.spec;
import static io.hoist.broker.grpc.BrokerFixture.timestamp;
import static io.hoist.broker.grpc.RpcErrorAssert.assertRpcError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * API.md's "Errors" table through real gRPC, one test per row that applies today (AdminService
 * and auth are not implemented yet): the status code and the ErrorInfo reason, and for
 * INVALID_ARGUMENT the field path.
 */
class GrpcApiTest {
    private static final int ONE_MIB = 1 << 20;

    @TempDir
    Path dir;
    BrokerFixture broker;

    @BeforeEach
    void start() throws Exception {
        broker = BrokerFixture.start(BrokerConfig.defaults(dir));
    }

    @AfterEach
    void stop() throws Exception {
        broker.close();
    }

    // ------------------------------------------------------------------ INVALID_ARGUMENT

    static Stream<Arguments> specsOutOfTheirRules() {
        return Stream.of(
                bad("empty queue name", s -> s.setQueue(""), "queue"),
                bad("queue name of 129 chars", s -> s.setQueue("q".repeat(129)), "queue"),
                bad("queue name with a space", s -> s.setQueue("my queue"), "queue"),
                bad("queue name with a slash", s -> s.setQueue("a/b"), "queue"),
                bad("empty type", s -> s.setType(""), "type"),
                bad("type with a space", s -> s.setType("send email"), "type"),
                bad("type of 129 chars", s -> s.setType("t".repeat(129)), "type"),
                bad("payload above 1 MiB", s -> s.setPayload(ByteString.copyFrom(new byte[ONE_MIB + 1])), "payload"),
                bad("payload plus headers above 1 MiB",
                        s -> s.setPayload(ByteString.copyFrom(new byte[ONE_MIB - 2])).putHeaders("ab", "c"), "payload"),
                bad("payload plus non-ASCII headers above 1 MiB in UTF-8 bytes",
                        s -> s.setPayload(ByteString.copyFrom(new byte[ONE_MIB - 3])).putHeaders("k", "\u00e9\u00e9"), "payload"),
                bad("priority 10", s -> s.setPriority(10), "priority"),
                bad("priority -1", s -> s.setPriority(-1), "priority"),
                bad("negative delay", s -> s.setDelay(millis(-1_000)), "delay"),
                bad("both run_at and delay",
                        s -> s.setRunAt(timestamp(Instant.now().plusSeconds(60))).setDelay(millis(1_000)), "delay"),
                bad("max_attempts 0", s -> s.setRetry(RetryPolicy.newBuilder().setMaxAttempts(0)), "retry.max_attempts"),
                bad("multiplier 0.5", s -> s.setRetry(RetryPolicy.newBuilder().setMultiplier(0.5)), "retry.multiplier"),
                bad("jitter 1.5", s -> s.setRetry(RetryPolicy.newBuilder().setJitter(1.5)), "retry.jitter"),
                bad("jitter -0.1", s -> s.setRetry(RetryPolicy.newBuilder().setJitter(-0.1)), "retry.jitter"),
                bad("job_id with a space", s -> s.setJobId("order 42"), "job_id"));
    }

    private static Arguments bad(String name, UnaryOperator<JobSpec.Builder> breakIt, String field) {
        return arguments(name, breakIt, field);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specsOutOfTheirRules")
    void enqueueWithAFieldOutOfItsRules_isInvalidArgumentNamingTheField_andStoresNothing(
            String name, UnaryOperator<JobSpec.Builder> breakIt, String field) {
        EnqueueRequest req = EnqueueRequest.newBuilder()
                .addJobs(spec("emails").setJobId("valid-first"))
                .addJobs(breakIt.apply(spec("emails")))
                .build();

        assertRpcError(() -> broker.jobs().enqueue(req)).isInvalidField("jobs[1]." + field);
        // a batch is atomic: the valid spec before the bad one was not stored either
        assertRpcError(() -> broker.job("valid-first")).hasCode(Status.Code.NOT_FOUND).hasReason("JOB_NOT_FOUND");
    }

    @Test
    void enqueueWithPayloadOfExactlyTheLimit_isAccepted() {
        String id = broker.enqueue(spec("emails").setPayload(ByteString.copyFrom(new byte[ONE_MIB]))).getJobId();

        assertThat(broker.job(id).getSpec().getPayload().size()).isEqualTo(ONE_MIB);
    }

    @Test
    void enqueueOfAnEmptyBatch_isInvalidArgument() {
        assertRpcError(() -> broker.jobs().enqueue(EnqueueRequest.getDefaultInstance())).isInvalidField("jobs");
    }

    @Test
    void enqueueOfABatchOf1001_isInvalidArgument_while1000IsAccepted() {
        EnqueueRequest.Builder req = EnqueueRequest.newBuilder();
        for (int i = 0; i < 1_000; i++) {
            req.addJobs(spec("bulk"));
        }
        assertThat(broker.jobs().enqueue(req.build()).getJobsCount()).isEqualTo(1_000);

        req.addJobs(spec("bulk"));
        assertRpcError(() -> broker.jobs().enqueue(req.build())).isInvalidField("jobs");
    }

    @Test
    void leaseWithNegativeMaxJobs_isInvalidArgument() {
        String worker = broker.register("emails");

        assertRpcError(() -> broker.workers().lease(LeaseRequest.newBuilder().setWorkerId(worker).setMaxJobs(-1).build()))
                .isInvalidField("max_jobs");
    }

    @Test
    void leaseWithMaxJobsAbove1000_isInvalidArgument() {
        String worker = broker.register("emails");

        assertRpcError(() -> broker.workers().lease(LeaseRequest.newBuilder().setWorkerId(worker).setMaxJobs(1_001).build()))
                .isInvalidField("max_jobs");
    }

    @Test
    void leaseWithANegativeWait_isInvalidArgument() {
        String worker = broker.register("emails");

        assertRpcError(() -> broker.workers().lease(LeaseRequest.newBuilder().setWorkerId(worker)
                .setWait(millis(-1)).build()))
                .isInvalidField("wait");
    }

    @Test
    void ackOfAnEmptyList_isInvalidArgument() {
        assertRpcError(() -> broker.workers().ack(AckRequest.newBuilder().setWorkerId("w").build()))
                .isInvalidField("acks");
    }

    @Test
    void nackWithANegativeRetryAfter_isInvalidArgument() {
        assertRpcError(() -> broker.workers().nack(NackRequest.newBuilder().setWorkerId("w").setJobId("j")
                .setLeaseToken("1").setRetryAfter(millis(-1)).build()))
                .isInvalidField("retry_after");
    }

    @Test
    void registerWithANegativeConcurrency_isInvalidArgument() {
        assertRpcError(() -> broker.workers().register(RegisterRequest.newBuilder()
                .addQueues("emails").setConcurrency(-1).build()))
                .isInvalidField("concurrency");
    }

    @Test
    void registerWithAnOddQueueName_isInvalidArgument() {
        assertRpcError(() -> broker.workers().register(RegisterRequest.newBuilder()
                .addQueues("emails").addQueues("bad queue").build()))
                .isInvalidField("queues[1]");
    }

    @Test
    void messageAboveTheTransportLimit_isRefused_andTheBrokerStaysUp() {
        JobSpec.Builder huge = spec("emails").setPayload(ByteString.copyFrom(new byte[5 * ONE_MIB]));

        assertRpcError(() -> broker.enqueue(huge)).hasCode(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(broker.job(broker.enqueueId("emails")).getState()).isEqualTo(JobState.JOB_STATE_READY);
    }

    // ------------------------------------------------------------------ NOT_FOUND

    @Test
    void getJobOfAnUnknownId_isNotFound() {
        assertRpcError(() -> broker.jobs().getJob(GetJobRequest.newBuilder().setJobId("nope").build()))
                .hasCode(Status.Code.NOT_FOUND).hasReason("JOB_NOT_FOUND");
    }

    @Test
    void cancelOfAnUnknownJob_isNotFound() {
        assertRpcError(() -> broker.jobs().cancelJob(CancelJobRequest.newBuilder().setJobId("nope").build()))
                .hasCode(Status.Code.NOT_FOUND).hasReason("JOB_NOT_FOUND");
    }

    @Test
    void nackOfAnUnknownJob_isNotFound() {
        String worker = broker.register("emails");

        assertRpcError(() -> broker.workers().nack(NackRequest.newBuilder()
                .setWorkerId(worker).setJobId("nope").setLeaseToken("1").build()))
                .hasCode(Status.Code.NOT_FOUND).hasReason("JOB_NOT_FOUND");
    }

    @Test
    void heartbeatOfAnUnknownSession_isNotFound() {
        assertRpcError(() -> broker.workers().heartbeat(HeartbeatRequest.newBuilder().setWorkerId("nobody").build()))
                .hasCode(Status.Code.NOT_FOUND).hasReason("WORKER_NOT_FOUND");
    }

    @Test
    void leaseOfAnUnknownSession_isNotFound() {
        assertRpcError(() -> broker.workers().lease(LeaseRequest.newBuilder()
                .setWorkerId("nobody").addQueues("emails").build()))
                .hasCode(Status.Code.NOT_FOUND).hasReason("WORKER_NOT_FOUND");
    }

    @Test
    void deregisterOfAnUnknownSession_isNotFound() {
        assertRpcError(() -> broker.workers().deregister(DeregisterRequest.newBuilder().setWorkerId("nobody").build()))
                .hasCode(Status.Code.NOT_FOUND).hasReason("WORKER_NOT_FOUND");
    }

    // ------------------------------------------------------------------ FAILED_PRECONDITION

    @Test
    void nackWithAStaleToken_isFailedPreconditionLeaseLost() {
        String id = broker.enqueueId("emails");
        String worker = broker.register("emails");
        LeasedJob leased = broker.leaseOne(worker, "emails");

        assertRpcError(() -> broker.workers().nack(NackRequest.newBuilder()
                .setWorkerId(worker).setJobId(id).setLeaseToken(leased.getLeaseToken() + "0").build()))
                .hasCode(Status.Code.FAILED_PRECONDITION).hasReason("LEASE_LOST");
        assertThat(broker.job(id).getState()).isEqualTo(JobState.JOB_STATE_LEASED);
    }

    @Test
    void nackOfAnAckedJob_isFailedPreconditionLeaseLost() {
        broker.enqueueId("emails");
        String worker = broker.register("emails");
        LeasedJob leased = broker.leaseOne(worker, "emails");
        broker.ack(worker, leased);

        assertRpcError(() -> broker.workers().nack(NackRequest.newBuilder().setWorkerId(worker)
                .setJobId(leased.getJob().getId()).setLeaseToken(leased.getLeaseToken()).build()))
                .hasCode(Status.Code.FAILED_PRECONDITION).hasReason("LEASE_LOST");
    }

    @Test
    void cancelOfASucceededJob_isFailedPreconditionJobFinished() {
        String id = broker.enqueueId("emails");
        String worker = broker.register("emails");
        broker.ack(worker, broker.leaseOne(worker, "emails"));

        assertRpcError(() -> broker.jobs().cancelJob(CancelJobRequest.newBuilder().setJobId(id).build()))
                .hasCode(Status.Code.FAILED_PRECONDITION).hasReason("JOB_FINISHED");
        assertThat(broker.job(id).getState()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
    }

    @Test
    void cancelOfACanceledJob_isFailedPreconditionJobFinished() {
        String id = broker.enqueueId("emails");
        broker.jobs().cancelJob(CancelJobRequest.newBuilder().setJobId(id).build());

        assertRpcError(() -> broker.jobs().cancelJob(CancelJobRequest.newBuilder().setJobId(id).build()))
                .hasCode(Status.Code.FAILED_PRECONDITION).hasReason("JOB_FINISHED");
    }
}
