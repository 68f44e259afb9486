package io.hoist.broker.grpc;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.proto.v1.CancelJobRequest;
import io.hoist.proto.v1.DeadReason;
import io.hoist.proto.v1.DeregisterRequest;
import io.hoist.proto.v1.EnqueuedJob;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.NackRequest;
import io.hoist.proto.v1.NackResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

import static io.hoist.broker.grpc.BrokerFixture.epochMillis;
import static io.hoist.broker.grpc.BrokerFixture.millis;
import static io.hoist.broker.grpc.BrokerFixture.spec;
import static io.hoist.broker.grpc.BrokerFixture.timestamp;
import static io.hoist.broker.grpc.RpcErrorAssert.assertRpcError;
import static io.hoist.proto.v1.JobState.JOB_STATE_CANCELED;
import static io.hoist.proto.v1.JobState.JOB_STATE_DEAD;
import static io.hoist.proto.v1.JobState.JOB_STATE_LEASED;
import static io.hoist.proto.v1.JobState.JOB_STATE_READY;
import static io.hoist.proto.v1.JobState.JOB_STATE_SCHEDULED;
import static io.hoist.proto.v1.JobState.JOB_STATE_SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/** JobService through real gRPC: Enqueue (single, batch, duplicates, delays), GetJob, CancelJob. */
class JobServiceTest {
    /** Crockford base32, 26 chars, the first at most 7 (48-bit time). */
    private static final String ULID = "[0-7][0-9A-HJKMNP-TV-Z]{25}";

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

    // ------------------------------------------------------------------ Enqueue

    @Test
    void enqueue_storesAReadyJobUnderAGeneratedUlid() {
        long before = System.currentTimeMillis();
        EnqueuedJob enqueued = broker.enqueue(spec("emails").setType("email:send/v1")
                .setPayload(ByteString.copyFromUtf8("{\"to\":\"a@b.c\"}"))
                .putHeaders("trace-id", "t-1")
                .setPriority(7));
        long after = System.currentTimeMillis();

        assertThat(enqueued.getJobId()).matches(ULID);
        assertThat(enqueued.getDuplicate()).isFalse();
        assertThat(enqueued.getState()).isEqualTo(JOB_STATE_READY);

        Job job = broker.job(enqueued.getJobId());
        assertThat(job.getId()).isEqualTo(enqueued.getJobId());
        assertThat(job.getState()).isEqualTo(JOB_STATE_READY);
        assertThat(job.getSpec().getQueue()).isEqualTo("emails");
        assertThat(job.getSpec().getType()).isEqualTo("email:send/v1");
        assertThat(job.getSpec().getPayload().toStringUtf8()).isEqualTo("{\"to\":\"a@b.c\"}");
        assertThat(job.getSpec().getHeadersMap()).containsExactlyEntriesOf(Map.of("trace-id", "t-1"));
        assertThat(job.getSpec().getPriority()).isEqualTo(7);
        assertThat(job.getAttempt()).isZero();
        assertThat(epochMillis(job.getCreatedAt())).isBetween(before, after);
        assertThat(epochMillis(job.getRunAt())).isBetween(before, after);
        assertThat(job.hasFinishedAt()).isFalse();
        assertThat(job.getWorkerId()).isEmpty();
        assertThat(job.getCancelRequested()).isFalse();
        assertThat(job.getDeadReason()).isEqualTo(DeadReason.DEAD_REASON_UNSPECIFIED);
    }

    /** Found by FuzzTest: the quoted value was cut inside a surrogate pair, and the status did not encode. */
    @Test
    void anInvalidTypeWithEmojiAtTheCut_isQuotedWithoutHalfASurrogatePair() {
        String type = "x".repeat(39) + "\ud83d\ude00" + "y".repeat(10);

        RpcErrorAssert.assertRpcError(() -> broker.enqueue(spec("emails").setType(type))).isInvalidField("jobs[0].type");
        io.grpc.StatusRuntimeException e = org.assertj.core.api.Assertions.catchThrowableOfType(
                io.grpc.StatusRuntimeException.class, () -> broker.enqueue(spec("emails").setType(type)));

        String message = e.getStatus().getDescription();
        assertThat(message).contains("x".repeat(39) + "\ud83d\ude00…");
        assertThat(message.chars().filter(c -> Character.isSurrogate((char) c)).count()).isEqualTo(2);
    }

    @Test
    void enqueueOfABatch_answersOneJobPerSpecInOrder() {
        List<EnqueuedJob> enqueued = broker.enqueue(
                spec("emails").setJobId("a"), spec("sms"), spec("emails").setJobId("c"));

        assertThat(enqueued).extracting(EnqueuedJob::getDuplicate, EnqueuedJob::getState).containsExactly(
                tuple(false, JOB_STATE_READY), tuple(false, JOB_STATE_READY), tuple(false, JOB_STATE_READY));
        assertThat(enqueued.get(0).getJobId()).isEqualTo("a");
        assertThat(enqueued.get(1).getJobId()).matches(ULID);
        assertThat(enqueued.get(2).getJobId()).isEqualTo("c");
        assertThat(broker.job(enqueued.get(1).getJobId()).getSpec().getQueue()).isEqualTo("sms");
    }

    @Test
    void enqueueWithAnExistingJobId_returnsThatJobAsADuplicate() {
        broker.enqueue(spec("emails").setJobId("order-42").setType("first"));
        String worker = broker.register("emails");
        broker.leaseOne(worker, "emails");

        EnqueuedJob again = broker.enqueue(spec("other").setJobId("order-42").setType("second"));

        assertThat(again.getJobId()).isEqualTo("order-42");
        assertThat(again.getDuplicate()).isTrue();
        assertThat(again.getState()).isEqualTo(JOB_STATE_LEASED);
        assertThat(broker.job("order-42").getSpec().getType()).isEqualTo("first");
    }

    @Test
    void enqueueWithAHeldUniqueKey_returnsTheHolderAsADuplicate_onlyInTheSameQueue() {
        String first = broker.enqueue(spec("emails").setUniqueKey("user-7")).getJobId();

        EnqueuedJob again = broker.enqueue(spec("emails").setUniqueKey("user-7"));
        EnqueuedJob otherQueue = broker.enqueue(spec("sms").setUniqueKey("user-7"));

        assertThat(again.getJobId()).isEqualTo(first);
        assertThat(again.getDuplicate()).isTrue();
        assertThat(again.getState()).isEqualTo(JOB_STATE_READY);
        assertThat(otherQueue.getJobId()).isNotEqualTo(first);
        assertThat(otherQueue.getDuplicate()).isFalse();
    }

    @Test
    void uniqueKey_isFreeAgainWhenItsJobEnds_withoutUniqueFor() {
        String first = broker.enqueue(spec("emails").setUniqueKey("user-7")).getJobId();
        String worker = broker.register("emails");
        broker.ack(worker, broker.leaseOne(worker, "emails"));

        EnqueuedJob again = broker.enqueue(spec("emails").setUniqueKey("user-7"));

        assertThat(again.getDuplicate()).isFalse();
        assertThat(again.getJobId()).isNotEqualTo(first);
    }

    @Test
    void uniqueKey_staysHeldForUniqueForAfterItsJobEnds() {
        String first = broker.enqueue(spec("emails").setUniqueKey("user-7").setUniqueFor(millis(60_000))).getJobId();
        broker.jobs().cancelJob(CancelJobRequest.newBuilder().setJobId(first).build());

        EnqueuedJob again = broker.enqueue(spec("emails").setUniqueKey("user-7"));

        assertThat(again.getJobId()).isEqualTo(first);
        assertThat(again.getDuplicate()).isTrue();
        assertThat(again.getState()).isEqualTo(JOB_STATE_CANCELED);
    }

    @Test
    void batchRepeatingAJobId_makesTheLaterSpecADuplicateOfTheEarlier() {
        List<EnqueuedJob> enqueued = broker.enqueue(
                spec("emails").setJobId("x").setType("first"), spec("emails").setJobId("x").setType("second"));

        assertThat(enqueued).extracting(EnqueuedJob::getJobId, EnqueuedJob::getDuplicate)
                .containsExactly(tuple("x", false), tuple("x", true));
        assertThat(broker.job("x").getSpec().getType()).isEqualTo("first");
    }

    @Test
    void batchRepeatingAUniqueKey_makesTheLaterSpecADuplicateOfTheEarlier() {
        List<EnqueuedJob> enqueued = broker.enqueue(
                spec("emails").setUniqueKey("k"), spec("emails").setUniqueKey("k"), spec("emails").setUniqueKey("other"));

        assertThat(enqueued).extracting(EnqueuedJob::getDuplicate).containsExactly(false, true, false);
        assertThat(enqueued.get(1).getJobId()).isEqualTo(enqueued.get(0).getJobId());
        assertThat(enqueued.get(2).getJobId()).isNotEqualTo(enqueued.get(0).getJobId());
    }

    @Test
    void enqueueWithADelay_isScheduledAndLeasableOnlyOnceTheDelayHasPassed() {
        long before = System.currentTimeMillis();
        EnqueuedJob enqueued = broker.enqueue(spec("emails").setDelay(millis(400)));
        long after = System.currentTimeMillis();
        String worker = broker.register("emails");

        assertThat(enqueued.getState()).isEqualTo(JOB_STATE_SCHEDULED);
        long runAt = epochMillis(broker.job(enqueued.getJobId()).getRunAt());
        assertThat(runAt).isBetween(before + 400, after + 400);
        assertThat(broker.lease(worker, 1, "emails")).isEmpty();

        List<LeasedJob> leased = broker.workers().lease(LeaseRequest.newBuilder()
                .setWorkerId(worker).setWait(millis(5_000)).build()).getJobsList();

        assertThat(System.currentTimeMillis()).isGreaterThanOrEqualTo(runAt);
        assertThat(leased).extracting(l -> l.getJob().getId()).containsExactly(enqueued.getJobId());
    }

    @Test
    void enqueueWithAFutureRunAt_isScheduledForThatTime() {
        Instant runAt = Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.MILLIS);

        EnqueuedJob enqueued = broker.enqueue(spec("emails").setRunAt(timestamp(runAt)));

        assertThat(enqueued.getState()).isEqualTo(JOB_STATE_SCHEDULED);
        assertThat(epochMillis(broker.job(enqueued.getJobId()).getRunAt())).isEqualTo(runAt.toEpochMilli());
        assertThat(broker.lease(broker.register("emails"), 1, "emails")).isEmpty();
    }

    @Test
    void enqueueWithAPastRunAt_isReadyAtOnce() {
        EnqueuedJob enqueued = broker.enqueue(spec("emails").setRunAt(timestamp(Instant.now().minusSeconds(3_600))));

        assertThat(enqueued.getState()).isEqualTo(JOB_STATE_READY);
        assertThat(broker.leaseOne(broker.register("emails"), "emails").getJob().getId()).isEqualTo(enqueued.getJobId());
    }

    // ------------------------------------------------------------------ GetJob

    @Test
    void getJob_followsTheJobThroughLeaseAndAck() {
        String id = broker.enqueueId("emails");
        String worker = broker.register("emails");
        LeasedJob leased = broker.leaseOne(worker, "emails");

        Job whileLeased = broker.job(id);
        assertThat(whileLeased.getState()).isEqualTo(JOB_STATE_LEASED);
        assertThat(whileLeased.getAttempt()).isEqualTo(1);
        assertThat(whileLeased.getWorkerId()).isEqualTo(worker);

        long beforeAck = System.currentTimeMillis();
        broker.ack(worker, leased);
        Job done = broker.job(id);
        assertThat(done.getState()).isEqualTo(JOB_STATE_SUCCEEDED);
        assertThat(done.getAttempt()).isEqualTo(1);
        assertThat(done.getWorkerId()).isEmpty();
        assertThat(epochMillis(done.getFinishedAt())).isBetween(beforeAck, System.currentTimeMillis());
    }

    @Test
    void finishedJob_isGoneAfterRetention_andItsIdIsFreeAgain_whileADeadJobStays() throws Exception {
        useShortRetention();
        broker.enqueue(spec("emails").setJobId("done"), spec("emails").setJobId("dead"));
        String worker = broker.register("emails");
        List<LeasedJob> leased = broker.lease(worker, 2, "emails");
        broker.ack(worker, leased.get(0));
        broker.workers().nack(NackRequest.newBuilder().setWorkerId(worker).setJobId("dead")
                .setLeaseToken(leased.get(1).getLeaseToken()).setNonRetryable(true).build());

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertRpcError(() -> broker.job("done")).hasCode(Status.Code.NOT_FOUND).hasReason("JOB_NOT_FOUND"));

        assertThat(broker.job("dead").getState()).isEqualTo(JOB_STATE_DEAD);
        EnqueuedJob again = broker.enqueue(spec("emails").setJobId("done"));
        assertThat(again.getDuplicate()).isFalse();
        assertThat(again.getState()).isEqualTo(JOB_STATE_READY);
    }

    @Test
    void uniqueKey_staysHeldForUniqueFor_evenAfterTheJobsRecordIsGone() throws Exception {
        useShortRetention();
        String first = broker.enqueue(spec("emails").setUniqueKey("user-7").setUniqueFor(millis(60_000))).getJobId();
        cancel(first);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertRpcError(() -> broker.job(first)).hasCode(Status.Code.NOT_FOUND));

        EnqueuedJob again = broker.enqueue(spec("emails").setUniqueKey("user-7"));

        assertThat(again.getJobId()).isEqualTo(first);
        assertThat(again.getDuplicate()).isTrue();
        assertThat(again.getState()).isEqualTo(JOB_STATE_CANCELED);
    }

    /** Swaps the default broker for one that forgets finished jobs after 300 ms. */
    private void useShortRetention() throws Exception {
        broker.close();
        broker = BrokerFixture.start(BrokerConfig.defaults(dir.resolve("short-retention"))
                .withRetention(Duration.ofMillis(300)));
    }

    // ------------------------------------------------------------------ CancelJob

    @Test
    void cancelOfAScheduledJob_cancelsItAtOnce() {
        String id = broker.enqueue(spec("emails").setDelay(millis(60_000))).getJobId();

        assertThat(cancel(id)).isEqualTo(JOB_STATE_CANCELED);
        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_CANCELED);
        assertThat(broker.job(id).hasFinishedAt()).isTrue();
    }

    @Test
    void cancelOfAReadyJob_cancelsItAtOnce_andItIsNeverLeased() {
        String id = broker.enqueueId("emails");

        assertThat(cancel(id)).isEqualTo(JOB_STATE_CANCELED);
        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_CANCELED);
        assertThat(broker.lease(broker.register("emails"), 10, "emails")).isEmpty();
    }

    @Test
    void cancelOfALeasedJob_requestsIt_theHeartbeatTellsTheWorker_andANackEndsItCanceled() {
        String id = broker.enqueueId("emails");
        String worker = broker.register("emails");
        LeasedJob leased = broker.leaseOne(worker, "emails");

        assertThat(cancel(id)).isEqualTo(JOB_STATE_LEASED);
        assertThat(broker.job(id).getCancelRequested()).isTrue();
        assertThat(broker.heartbeat(worker, id).getCanceledJobIdsList()).containsExactly(id);

        NackResponse nacked = broker.workers().nack(NackRequest.newBuilder().setWorkerId(worker)
                .setJobId(id).setLeaseToken(leased.getLeaseToken()).setError("stopped").build());

        assertThat(nacked.getState()).isEqualTo(JOB_STATE_CANCELED);
        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_CANCELED);
        assertThat(broker.lease(worker, 10, "emails")).as("a cancelled job is never retried").isEmpty();
    }

    @Test
    void cancelOfALeasedJob_thenAck_endsItSucceeded() {
        String id = broker.enqueueId("emails");
        String worker = broker.register("emails");
        LeasedJob leased = broker.leaseOne(worker, "emails");
        cancel(id);

        broker.ack(worker, leased);

        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_SUCCEEDED);
    }

    @Test
    void cancelOfALeasedJob_thenDeregister_endsItCanceled() {
        String id = broker.enqueueId("emails");
        String worker = broker.register("emails");
        broker.leaseOne(worker, "emails");
        cancel(id);

        broker.workers().deregister(DeregisterRequest.newBuilder().setWorkerId(worker).build());

        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_CANCELED);
    }

    @Test
    void cancelOfALeasedJob_thenLeaseExpiry_endsItCanceled_neverRetried() {
        String id = broker.enqueue(spec("emails").setLeaseDuration(millis(300))).getJobId();
        String worker = broker.register("emails");
        broker.leaseOne(worker, "emails");
        cancel(id);

        broker.awaitState(id, JOB_STATE_CANCELED);
        assertThat(broker.lease(worker, 10, "emails")).isEmpty();
    }

    @Test
    void cancelOfADeadJob_cancelsIt_andKeepsWhyItDied() {
        String id = broker.enqueueId("emails");
        String worker = broker.register("emails");
        LeasedJob leased = broker.leaseOne(worker, "emails");
        broker.workers().nack(NackRequest.newBuilder().setWorkerId(worker).setJobId(id)
                .setLeaseToken(leased.getLeaseToken()).setError("bad input").setNonRetryable(true).build());
        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_DEAD);

        assertThat(cancel(id)).isEqualTo(JOB_STATE_CANCELED);

        Job job = broker.job(id);
        assertThat(job.getState()).isEqualTo(JOB_STATE_CANCELED);
        assertThat(job.getDeadReason()).isEqualTo(DeadReason.DEAD_REASON_NON_RETRYABLE);
        assertThat(job.getLastError()).isEqualTo("bad input");
    }

    private JobState cancel(String id) {
        return broker.jobs().cancelJob(CancelJobRequest.newBuilder().setJobId(id).build()).getState();
    }
}
