package io.hoist.broker.grpc;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Status;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.AckResult;
import io.hoist.proto.v1.DeadReason;
import io.hoist.proto.v1.DeregisterRequest;
import io.hoist.proto.v1.HeartbeatResponse;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobAck;
import io.hoist.proto.v1.JobError;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.LeaseResponse;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.NackRequest;
import io.hoist.proto.v1.NackResponse;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.RegisterResponse;
import io.hoist.proto.v1.RetryPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.hoist.broker.grpc.BrokerFixture.epochMillis;
import static io.hoist.broker.grpc.BrokerFixture.millis;
import static io.hoist.broker.grpc.BrokerFixture.spec;
import static io.hoist.broker.grpc.RpcErrorAssert.assertRpcError;
import static io.hoist.proto.v1.AckOutcome.ACK_OUTCOME_ACKED;
import static io.hoist.proto.v1.AckOutcome.ACK_OUTCOME_LEASE_LOST;
import static io.hoist.proto.v1.AckOutcome.ACK_OUTCOME_NOT_FOUND;
import static io.hoist.proto.v1.JobState.JOB_STATE_DEAD;
import static io.hoist.proto.v1.JobState.JOB_STATE_LEASED;
import static io.hoist.proto.v1.JobState.JOB_STATE_READY;
import static io.hoist.proto.v1.JobState.JOB_STATE_SCHEDULED;
import static io.hoist.proto.v1.JobState.JOB_STATE_SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/**
 * WorkerService through real gRPC: sessions, heartbeats, leases (priority, limits, long poll),
 * acks, nacks and deregistration. Time-driven behaviour uses short per-job lease durations or a
 * broker restarted with a short session timeout, and waits with Awaitility.
 */
class WorkerServiceTest {
    private static final Duration SHORT_SESSION = Duration.ofMillis(600);
    private static final Duration SHORT_HEARTBEAT = Duration.ofMillis(200);

    @TempDir
    Path dir;
    BrokerFixture broker;

    @BeforeEach
    void start() throws Exception {
        broker = BrokerFixture.start(BrokerConfig.defaults(dir.resolve("default")));
    }

    @AfterEach
    void stop() throws Exception {
        broker.close();
    }

    /** Swaps the default broker for one whose sessions expire after 600 ms of silence. */
    private void useShortSessions() throws Exception {
        broker.close();
        broker = BrokerFixture.start(BrokerConfig.defaults(dir.resolve("short"))
                .withSessionTimeout(SHORT_SESSION, SHORT_HEARTBEAT));
    }

    // ------------------------------------------------------------------ Register, Heartbeat

    @Test
    void register_answersANewSessionWithTheDefaultTerms() {
        RegisterResponse first = broker.workers().register(RegisterRequest.newBuilder()
                .setName("mailer").addQueues("emails").setConcurrency(4).putLabels("zone", "a").build());
        RegisterResponse second = broker.workers().register(RegisterRequest.newBuilder().setName("mailer").build());

        assertThat(first.getWorkerId()).isNotEmpty().isNotEqualTo(second.getWorkerId());
        assertThat(first.getHeartbeatInterval()).isEqualTo(millis(2_000));
        assertThat(first.getSessionTimeout()).isEqualTo(millis(10_000));
    }

    @Test
    void register_answersTheConfiguredTerms() throws Exception {
        useShortSessions();

        RegisterResponse r = broker.workers().register(RegisterRequest.newBuilder().addQueues("emails").build());

        assertThat(r.getHeartbeatInterval()).isEqualTo(millis(SHORT_HEARTBEAT.toMillis()));
        assertThat(r.getSessionTimeout()).isEqualTo(millis(SHORT_SESSION.toMillis()));
    }

    @Test
    void everyCallWithItsWorkerId_renewsTheSession() throws Exception {
        useShortSessions();
        String worker = broker.register("emails");

        await().during(SHORT_SESSION.multipliedBy(2)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> broker.lease(worker, 1, "emails").isEmpty());

        assertThat(broker.heartbeat(worker).getShutdownRequested()).isFalse();
    }

    @Test
    void heartbeat_reportsListedJobsTheWorkerDoesNotHoldAsLost() {
        List<String> ids = broker.enqueue(spec("emails").setJobId("mine"), spec("emails").setJobId("theirs"),
                spec("emails").setJobId("ready")).stream().map(e -> e.getJobId()).toList();
        String me = broker.register("emails");
        String other = broker.register("emails");
        broker.leaseOne(me, "emails");
        broker.leaseOne(other, "emails");

        HeartbeatResponse r = broker.heartbeat(me, "mine", "theirs", "ready", "unknown");

        assertThat(ids).containsExactly("mine", "theirs", "ready");
        assertThat(r.getLostJobIdsList()).containsExactly("theirs", "ready", "unknown");
        assertThat(r.getCanceledJobIdsList()).isEmpty();
        assertThat(r.getShutdownRequested()).isFalse();
        assertThat(broker.job("mine").getState()).isEqualTo(JOB_STATE_LEASED);
    }

    @Test
    void heartbeat_reportsEveryHeldJobWithACancelRequest_evenIfNotListed() {
        String id = broker.enqueueId("emails");
        String worker = broker.register("emails");
        broker.leaseOne(worker, "emails");
        broker.jobs().cancelJob(io.hoist.proto.v1.CancelJobRequest.newBuilder().setJobId(id).build());

        HeartbeatResponse r = broker.heartbeat(worker);

        assertThat(r.getCanceledJobIdsList()).containsExactly(id);
        assertThat(r.getLostJobIdsList()).isEmpty();
    }

    @Test
    void heartbeat_keepsALeaseAlivePastItsDuration_andWithoutItTheLeaseExpires() {
        String id = broker.enqueue(spec("emails").setLeaseDuration(millis(800))).getJobId();
        String worker = broker.register("emails");
        broker.leaseOne(worker, "emails");

        await().during(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> broker.heartbeat(worker, id).getLostJobIdsList().isEmpty());
        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_LEASED);

        Job released = broker.awaitState(id, JOB_STATE_READY);
        assertThat(released.getAttempt()).as("an expired lease is charged").isEqualTo(1);
    }

    @Test
    void heartbeat_neverExtendsALeasePastTheAttemptsTimeout() {
        String id = broker.enqueue(spec("emails").setLeaseDuration(millis(600)).setTimeout(millis(1_200))).getJobId();
        String worker = broker.register("emails");
        long leasedAt = System.nanoTime();
        broker.leaseOne(worker, "emails");

        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> broker.heartbeat(worker, id).getLostJobIdsList().contains(id));

        assertThat(Duration.ofNanos(System.nanoTime() - leasedAt)).isBetween(Duration.ofMillis(1_200), Duration.ofSeconds(3));
        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_READY);
    }

    // ------------------------------------------------------------------ lease expiry

    @Test
    void leaseExpiry_releasesTheJobCharged_andHeartbeatReportsItLost() {
        String id = broker.enqueue(spec("emails").setLeaseDuration(millis(300))).getJobId();
        String worker = broker.register("emails");
        broker.leaseOne(worker, "emails");

        Job released = broker.awaitState(id, JOB_STATE_READY);

        assertThat(released.getAttempt()).isEqualTo(1);
        assertThat(released.getWorkerId()).isEmpty();
        assertThat(released.getLastError()).isNotEmpty();
        assertThat(released.getErrorsList()).extracting(JobError::getAttempt).containsExactly(1);
        assertThat(broker.heartbeat(worker, id).getLostJobIdsList()).containsExactly(id);
    }

    @Test
    void leaseExpiryOnTheLastAttempt_buriesTheJobAsLeaseExpired() {
        String id = broker.enqueue(spec("emails").setLeaseDuration(millis(300))
                .setRetry(RetryPolicy.newBuilder().setMaxAttempts(1))).getJobId();
        String worker = broker.register("emails");
        broker.leaseOne(worker, "emails");

        Job dead = broker.awaitState(id, JOB_STATE_DEAD);

        assertThat(dead.getDeadReason()).isEqualTo(DeadReason.DEAD_REASON_LEASE_EXPIRED);
    }

    @Test
    void ackWithStaleToken_isLeaseLost() {
        String id = broker.enqueue(spec("emails").setRetry(RetryPolicy.newBuilder().setInitialBackoff(millis(10))))
                .getJobId();
        String slow = broker.register("emails");
        LeasedJob first = broker.leaseOne(slow, "emails");
        nack(slow, first, "first try failed", false);
        broker.awaitState(id, JOB_STATE_READY);
        String fast = broker.register("emails");
        LeasedJob second = broker.leaseOne(fast, "emails");

        assertThat(second.getLeaseToken()).isNotEqualTo(first.getLeaseToken());
        assertThat(broker.ack(slow, first)).extracting(AckResult::getOutcome).containsExactly(ACK_OUTCOME_LEASE_LOST);
        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_LEASED);
        assertThat(broker.ack(fast, second)).extracting(AckResult::getOutcome).containsExactly(ACK_OUTCOME_ACKED);
    }

    @Test
    void ackAfterTheLeaseExpired_isLeaseLost() {
        String id = broker.enqueue(spec("emails").setLeaseDuration(millis(300))).getJobId();
        String worker = broker.register("emails");
        LeasedJob leased = broker.leaseOne(worker, "emails");
        broker.awaitState(id, JOB_STATE_READY);

        assertThat(broker.ack(worker, leased)).extracting(AckResult::getOutcome).containsExactly(ACK_OUTCOME_LEASE_LOST);
        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_READY);
    }

    // ------------------------------------------------------------------ Lease

    @Test
    void lease_givesHigherPriorityFirst_thenOldestFirst() {
        broker.enqueue(spec("emails").setJobId("p0-old"), spec("emails").setJobId("p5-old").setPriority(5),
                spec("emails").setJobId("p0-new"), spec("emails").setJobId("p9").setPriority(9));
        broker.enqueue(spec("emails").setJobId("p5-new").setPriority(5));
        String worker = broker.register("emails");

        List<LeasedJob> leased = broker.lease(worker, 10, "emails");

        assertThat(leased).extracting(l -> l.getJob().getId())
                .containsExactly("p9", "p5-old", "p5-new", "p0-old", "p0-new");
    }

    @Test
    void lease_triesTheQueuesInTheOrderGiven() {
        broker.enqueue(spec("low").setJobId("from-low"), spec("high").setJobId("from-high").setPriority(9));
        String worker = broker.register("low", "high");

        assertThat(broker.lease(worker, 2, "low", "high")).extracting(l -> l.getJob().getId())
                .containsExactly("from-low", "from-high");
    }

    @Test
    void lease_withoutQueues_usesTheQueuesGivenAtRegister() {
        broker.enqueue(spec("emails").setJobId("e"), spec("sms").setJobId("s"));
        String worker = broker.register("sms");

        assertThat(broker.lease(worker, 10)).extracting(l -> l.getJob().getId()).containsExactly("s");
    }

    @Test
    void lease_answersTheJobWithItsTokenAndDeadline() {
        String id = broker.enqueue(spec("emails").setLeaseDuration(millis(20_000))).getJobId();
        String worker = broker.register("emails");

        long before = System.currentTimeMillis();
        LeasedJob leased = broker.leaseOne(worker, "emails");
        long after = System.currentTimeMillis();

        assertThat(leased.getJob().getId()).isEqualTo(id);
        assertThat(leased.getJob().getState()).isEqualTo(JOB_STATE_LEASED);
        assertThat(leased.getJob().getAttempt()).isEqualTo(1);
        assertThat(leased.getJob().getWorkerId()).isEqualTo(worker);
        assertThat(leased.getLeaseToken()).isNotEmpty();
        assertThat(epochMillis(leased.getLeaseDeadline())).isBetween(before + 20_000, after + 20_000);
    }

    @Test
    void lease_givesAtMostMaxJobs_andOneWhenMaxJobsIsUnset() {
        for (int i = 0; i < 5; i++) {
            broker.enqueueId("emails");
        }
        String worker = broker.register("emails");

        assertThat(broker.lease(worker, 0, "emails")).hasSize(1);
        assertThat(broker.lease(worker, 3, "emails")).hasSize(3);
        assertThat(broker.lease(worker, 1_000, "emails")).as("fewer when fewer are ready").hasSize(1);
        assertThat(broker.lease(worker, 1_000, "emails")).isEmpty();
    }

    @Test
    void lease_neverLetsAWorkerHoldMoreThanItsConcurrency() {
        for (int i = 0; i < 4; i++) {
            broker.enqueueId("emails");
        }
        String worker = broker.register(2, "emails");

        List<LeasedJob> leased = broker.lease(worker, 10, "emails");
        assertThat(leased).hasSize(2);
        assertThat(broker.lease(worker, 10, "emails")).isEmpty();

        broker.ack(worker, leased.get(0));
        assertThat(broker.lease(worker, 10, "emails")).hasSize(1);
    }

    @Test
    void parkedLease_isAnsweredAsSoonAsAJobIsEnqueuedInOneOfItsQueues_withAtMostMaxJobs() throws Exception {
        String worker = broker.register("emails");
        ListenableFuture<LeaseResponse> parked = broker.workersAsync().lease(LeaseRequest.newBuilder()
                .setWorkerId(worker).addQueues("emails").setMaxJobs(2).setWait(millis(8_000)).build());
        broker.enqueueId("sms");
        assertStaysParked(parked);

        long enqueuedAt = System.nanoTime();
        List<String> ids = broker.enqueue(spec("emails"), spec("emails"), spec("emails")).stream()
                .map(e -> e.getJobId()).toList();
        LeaseResponse r = parked.get(5, TimeUnit.SECONDS);

        assertThat(Duration.ofNanos(System.nanoTime() - enqueuedAt)).isLessThan(Duration.ofSeconds(2));
        assertThat(r.getJobsList()).extracting(l -> l.getJob().getId()).containsExactly(ids.get(0), ids.get(1));
        assertThat(broker.job(ids.get(0)).getWorkerId()).isEqualTo(worker);
        assertThat(broker.job(ids.get(2)).getState()).isEqualTo(JOB_STATE_READY);
    }

    @Test
    void parkedLease_atTheConcurrencyLimit_isAnsweredWhenASlotFrees() throws Exception {
        broker.enqueueId("emails");
        String worker = broker.register(1, "emails");
        LeasedJob held = broker.leaseOne(worker, "emails");
        ListenableFuture<LeaseResponse> parked = broker.workersAsync().lease(LeaseRequest.newBuilder()
                .setWorkerId(worker).setWait(millis(8_000)).build());
        String next = broker.enqueueId("emails");
        assertStaysParked(parked);

        broker.ack(worker, held);

        assertThat(parked.get(5, TimeUnit.SECONDS).getJobsList()).extracting(l -> l.getJob().getId())
                .containsExactly(next);
    }

    @Test
    void parkedLease_whoseClientWentAway_takesNoJob() {
        String worker = broker.register("emails");
        assertRpcError(() -> broker.workers(Duration.ofMillis(300)).lease(LeaseRequest.newBuilder()
                .setWorkerId(worker).setWait(millis(5_000)).build()))
                .hasCode(Status.Code.DEADLINE_EXCEEDED);

        String id = broker.enqueueId("emails");

        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_READY);
        assertThat(broker.leaseOne(worker, "emails").getJob().getId()).isEqualTo(id);
    }

    @Test
    void deregister_answersItsParkedLeaseEmpty() throws Exception {
        String worker = broker.register("emails");
        ListenableFuture<LeaseResponse> parked = broker.workersAsync().lease(LeaseRequest.newBuilder()
                .setWorkerId(worker).setWait(millis(8_000)).build());
        assertStaysParked(parked);

        broker.workers().deregister(DeregisterRequest.newBuilder().setWorkerId(worker).build());

        assertThat(parked.get(5, TimeUnit.SECONDS).getJobsList()).isEmpty();
    }

    /** The lease is still waiting 300 ms on (so it is parked, not merely in flight). */
    private static void assertStaysParked(ListenableFuture<LeaseResponse> parked) {
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !parked.isDone());
    }

    @Test
    void parkedLease_answersEmptyAfterItsWait() {
        String worker = broker.register("emails");

        long started = System.nanoTime();
        LeaseResponse r = broker.workers().lease(LeaseRequest.newBuilder()
                .setWorkerId(worker).addQueues("emails").setWait(millis(300)).build());

        assertThat(r.getJobsList()).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(290), Duration.ofSeconds(3));
    }

    @Test
    void parkedLease_whoseSessionExpires_isNotFound() throws Exception {
        useShortSessions();
        String worker = broker.register("emails");

        long started = System.nanoTime();
        assertRpcError(() -> broker.workers().lease(LeaseRequest.newBuilder()
                .setWorkerId(worker).addQueues("emails").setWait(millis(8_000)).build()))
                .hasCode(Status.Code.NOT_FOUND).hasReason("WORKER_NOT_FOUND");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    }

    // ------------------------------------------------------------------ Ack

    @Test
    void ack_answersEachItemOnItsOwn() {
        broker.enqueue(spec("emails").setJobId("good"), spec("emails").setJobId("wrong-token"));
        String worker = broker.register("emails");
        List<LeasedJob> leased = broker.lease(worker, 2, "emails");

        List<AckResult> results = broker.workers().ack(AckRequest.newBuilder().setWorkerId(worker)
                .addAcks(JobAck.newBuilder().setJobId("good").setLeaseToken(leased.get(0).getLeaseToken()))
                .addAcks(JobAck.newBuilder().setJobId("wrong-token").setLeaseToken("not-the-token"))
                .addAcks(JobAck.newBuilder().setJobId("unknown").setLeaseToken("1"))
                .build()).getResultsList();

        assertThat(results).extracting(AckResult::getJobId, AckResult::getOutcome).containsExactly(
                tuple("good", ACK_OUTCOME_ACKED),
                tuple("wrong-token", ACK_OUTCOME_LEASE_LOST),
                tuple("unknown", ACK_OUTCOME_NOT_FOUND));
        assertThat(broker.job("good").getState()).isEqualTo(JOB_STATE_SUCCEEDED);
        assertThat(broker.job("wrong-token").getState()).isEqualTo(JOB_STATE_LEASED);
    }

    @Test
    void ackRepeatedWithTheSameToken_isAckedAgain() {
        String id = broker.enqueueId("emails");
        String worker = broker.register("emails");
        LeasedJob leased = broker.leaseOne(worker, "emails");

        assertThat(broker.ack(worker, leased)).extracting(AckResult::getOutcome).containsExactly(ACK_OUTCOME_ACKED);
        assertThat(broker.ack(worker, leased)).extracting(AckResult::getOutcome).containsExactly(ACK_OUTCOME_ACKED);
        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_SUCCEEDED);
    }

    @Test
    void ack_isJudgedByJobIdAndToken_notByTheWorkerId() {
        broker.enqueueId("emails");
        String worker = broker.register("emails");
        LeasedJob leased = broker.leaseOne(worker, "emails");

        assertThat(broker.ack("some-other-worker", leased)).extracting(AckResult::getOutcome)
                .containsExactly(ACK_OUTCOME_ACKED);
    }

    // ------------------------------------------------------------------ Nack

    @Test
    void nack_schedulesARetryAfterThePolicysBackoff() {
        String id = broker.enqueue(spec("emails").setRetry(RetryPolicy.newBuilder()
                .setInitialBackoff(millis(2_000)).setJitter(0.0))).getJobId();
        String worker = broker.register("emails");
        LeasedJob leased = broker.leaseOne(worker, "emails");

        long before = System.currentTimeMillis();
        NackResponse r = nack(worker, leased, "boom", false);
        long after = System.currentTimeMillis();

        assertThat(r.getState()).isEqualTo(JOB_STATE_SCHEDULED);
        assertThat(epochMillis(r.getRunAt())).isBetween(before + 2_000, after + 2_000);
        Job job = broker.job(id);
        assertThat(job.getState()).isEqualTo(JOB_STATE_SCHEDULED);
        assertThat(job.getRunAt()).isEqualTo(r.getRunAt());
        assertThat(job.getAttempt()).isEqualTo(1);
        assertThat(job.getWorkerId()).isEmpty();
        assertThat(job.getLastError()).isEqualTo("boom");
        assertThat(job.getErrorsList()).extracting(JobError::getAttempt, JobError::getMessage)
                .containsExactly(tuple(1, "boom"));
        assertThat(broker.lease(worker, 1, "emails")).isEmpty();
    }

    @Test
    void nack_withTheDefaultPolicy_waitsAboutOneSecond_jitterOnlyShortening() {
        broker.enqueueId("emails");
        String worker = broker.register("emails");
        LeasedJob leased = broker.leaseOne(worker, "emails");

        long before = System.currentTimeMillis();
        NackResponse r = nack(worker, leased, "boom", false);
        long after = System.currentTimeMillis();

        assertThat(epochMillis(r.getRunAt())).isBetween(before + 800, after + 1_000);
    }

    @Test
    void nack_withRetryAfter_retriesAfterThatLong() {
        String id = broker.enqueueId("emails");
        String worker = broker.register("emails");
        LeasedJob leased = broker.leaseOne(worker, "emails");

        NackResponse r = broker.workers().nack(NackRequest.newBuilder().setWorkerId(worker).setJobId(id)
                .setLeaseToken(leased.getLeaseToken()).setError("busy").setRetryAfter(millis(50)).build());

        assertThat(r.getState()).isEqualTo(JOB_STATE_SCHEDULED);
        broker.awaitState(id, JOB_STATE_READY);
        assertThat(broker.leaseOne(worker, "emails").getJob().getAttempt()).isEqualTo(2);
    }

    @Test
    void nack_nonRetryable_buriesTheJob() {
        String id = broker.enqueueId("emails");
        String worker = broker.register("emails");
        LeasedJob leased = broker.leaseOne(worker, "emails");

        NackResponse r = nack(worker, leased, "bad input", true);

        assertThat(r.getState()).isEqualTo(JOB_STATE_DEAD);
        Job job = broker.job(id);
        assertThat(job.getState()).isEqualTo(JOB_STATE_DEAD);
        assertThat(job.getDeadReason()).isEqualTo(DeadReason.DEAD_REASON_NON_RETRYABLE);
        assertThat(job.getLastError()).isEqualTo("bad input");
        assertThat(job.hasFinishedAt()).isTrue();
    }

    @Test
    void nack_onTheLastAttempt_buriesTheJobAsAttemptsExhausted() {
        String id = broker.enqueue(spec("emails").setRetry(RetryPolicy.newBuilder()
                .setMaxAttempts(2).setInitialBackoff(millis(10)))).getJobId();
        String worker = broker.register("emails");
        assertThat(nack(worker, broker.leaseOne(worker, "emails"), "first", false).getState())
                .isEqualTo(JOB_STATE_SCHEDULED);
        broker.awaitState(id, JOB_STATE_READY);

        NackResponse r = nack(worker, broker.leaseOne(worker, "emails"), "second", false);

        assertThat(r.getState()).isEqualTo(JOB_STATE_DEAD);
        Job job = broker.job(id);
        assertThat(job.getDeadReason()).isEqualTo(DeadReason.DEAD_REASON_ATTEMPTS_EXHAUSTED);
        assertThat(job.getAttempt()).isEqualTo(2);
        assertThat(job.getErrorsList()).extracting(JobError::getAttempt, JobError::getMessage)
                .containsExactly(tuple(1, "first"), tuple(2, "second"));
    }

    private NackResponse nack(String worker, LeasedJob leased, String error, boolean nonRetryable) {
        return broker.workers().nack(NackRequest.newBuilder().setWorkerId(worker).setJobId(leased.getJob().getId())
                .setLeaseToken(leased.getLeaseToken()).setError(error).setNonRetryable(nonRetryable).build());
    }

    // ------------------------------------------------------------------ Deregister, session expiry

    @Test
    void deregister_releasesHeldJobsAtOnce_withoutChargingTheDelivery() {
        String id = broker.enqueue(spec("emails").setRetry(RetryPolicy.newBuilder().setInitialBackoff(millis(10))))
                .getJobId();
        String worker = broker.register("emails");
        nack(worker, broker.leaseOne(worker, "emails"), "first", false);
        broker.awaitState(id, JOB_STATE_READY);
        assertThat(broker.leaseOne(worker, "emails").getJob().getAttempt()).isEqualTo(2);

        int released = broker.workers().deregister(DeregisterRequest.newBuilder().setWorkerId(worker).build())
                .getReleased();

        assertThat(released).isEqualTo(1);
        Job job = broker.job(id);
        assertThat(job.getState()).isEqualTo(JOB_STATE_READY);
        assertThat(job.getAttempt()).as("the last delivery is not charged").isEqualTo(1);
        assertThat(job.getWorkerId()).isEmpty();
        assertRpcError(() -> broker.heartbeat(worker)).hasCode(Status.Code.NOT_FOUND).hasReason("WORKER_NOT_FOUND");
        assertThat(broker.leaseOne(broker.register("emails"), "emails").getJob().getAttempt()).isEqualTo(2);
    }

    @Test
    void sessionExpiry_releasesHeldJobsCharged_andOnlyAnAlreadyAcceptedAckStillCounts() throws Exception {
        useShortSessions();
        broker.enqueue(spec("emails").setJobId("acked"), spec("emails").setJobId("held"));
        String worker = broker.register("emails");
        List<LeasedJob> leased = broker.lease(worker, 2, "emails");
        broker.ack(worker, leased.get(0));

        Job released = broker.awaitState("held", JOB_STATE_READY);

        assertThat(released.getAttempt()).isEqualTo(1);
        assertThat(released.getWorkerId()).isEmpty();
        assertRpcError(() -> broker.heartbeat(worker)).hasCode(Status.Code.NOT_FOUND).hasReason("WORKER_NOT_FOUND");
        assertThat(broker.ack(worker, leased.get(0), leased.get(1))).extracting(AckResult::getJobId, AckResult::getOutcome)
                .containsExactly(tuple("acked", ACK_OUTCOME_ACKED), tuple("held", ACK_OUTCOME_LEASE_LOST));
    }
}
