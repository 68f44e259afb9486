package io.hoist.sdk;

import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

class HoistClientTest {
    record Email(String to, String subject, List<String> tags) {
    }

    @TempDir
    Path dataDir;
    TestBroker broker;
    HoistClient client;

    @BeforeEach
    void start() throws Exception {
        broker = TestBroker.start(dataDir);
        client = broker.client();
    }

    @AfterEach
    void stop() {
        client.close();
        broker.close();
    }

    @Test
    void enqueueThenGetJob_roundTripsTypedPayloadAndFields() {
        Email email = new Email("ada@example.com", "Welcome", List.of("new", "vip"));
        Enqueued e = client.enqueue(JobRequest.builder("emails", "send-welcome").payload(email)
                .header("trace-id", "t-1").priority(7).build());

        assertThat(e.duplicate()).isFalse();
        assertThat(e.state()).isEqualTo(JobState.READY);
        JobInfo job = client.getJob(e.jobId());
        assertThat(job.id()).isEqualTo(e.jobId());
        assertThat(job.queue()).isEqualTo("emails");
        assertThat(job.type()).isEqualTo("send-welcome");
        assertThat(job.state()).isEqualTo(JobState.READY);
        assertThat(job.priority()).isEqualTo(7);
        assertThat(job.attempt()).isZero();
        assertThat(job.headers()).containsEntry("trace-id", "t-1");
        assertThat(job.deadReason()).isEqualTo(DeadReason.NONE);
        assertThat(job.createdAt()).isBefore(Instant.now().plusSeconds(5));
        assertThat(job.finishedAt()).isEmpty();
        assertThat(job.payload(Email.class)).isEqualTo(email);
        assertThat(new String(job.payload(), StandardCharsets.UTF_8)).contains("\"to\":\"ada@example.com\"");
    }

    @Test
    void rawBytesPayload_isSentAsItIs() {
        byte[] raw = {0, 1, 2, (byte) 0xff};
        String id = client.enqueue("files", "resize", raw).jobId();

        assertThat(client.getJob(id).payload()).containsExactly(raw);
        assertThat(client.getJob(id).payload(byte[].class)).containsExactly(raw);
    }

    @Test
    void delayedJob_isScheduled_andCancelEndsItAtOnce() {
        String id = client.enqueue(JobRequest.builder("emails", "digest").delay(Duration.ofHours(1)).build()).jobId();
        assertThat(client.getJob(id).state()).isEqualTo(JobState.SCHEDULED);

        assertThat(client.cancel(id)).isEqualTo(JobState.CANCELED);

        JobInfo job = client.getJob(id);
        assertThat(job.state()).isEqualTo(JobState.CANCELED);
        assertThat(job.finishedAt()).isPresent();
        HoistException again = catchThrowableOfType(HoistException.class, () -> client.cancel(id));
        assertThat(again.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(again.reason()).isEqualTo("JOB_FINISHED");
    }

    @Test
    void sameJobIdOrUniqueKey_returnsTheExistingJobAsDuplicate() {
        Enqueued first = client.enqueue(JobRequest.builder("orders", "charge").jobId("order-42").build());
        Enqueued again = client.enqueue(JobRequest.builder("orders", "charge").jobId("order-42").build());
        assertThat(first.jobId()).isEqualTo("order-42");
        assertThat(again.duplicate()).isTrue();
        assertThat(again.jobId()).isEqualTo("order-42");

        Enqueued keyed = client.enqueue(JobRequest.builder("orders", "sync").uniqueKey("customer-7").build());
        Enqueued keyedAgain = client.enqueue(JobRequest.builder("orders", "sync").uniqueKey("customer-7").build());
        assertThat(keyedAgain.duplicate()).isTrue();
        assertThat(keyedAgain.jobId()).isEqualTo(keyed.jobId());
    }

    @Test
    void enqueueBatch_answersOnePerRequestInOrder() {
        List<Enqueued> answers = client.enqueueBatch(List.of(
                JobRequest.of("batch", "a", "one"),
                JobRequest.builder("batch", "b").payload("two").delay(Duration.ofMinutes(5)).build(),
                JobRequest.builder("batch", "c").payload("three").maxAttempts(1).build()));

        assertThat(answers).extracting(Enqueued::state)
                .containsExactly(JobState.READY, JobState.SCHEDULED, JobState.READY);
        assertThat(answers).extracting(a -> client.getJob(a.jobId()).type()).containsExactly("a", "b", "c");
        assertThat(client.getJob(answers.get(1).jobId()).payload(String.class)).isEqualTo("two");
    }

    @Test
    void unknownJob_throwsJobNotFoundWithStatusAndReason() {
        JobNotFoundException e = catchThrowableOfType(JobNotFoundException.class, () -> client.getJob("no-such-job"));

        assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(e.reason()).isEqualTo("JOB_NOT_FOUND");
        assertThat(e.brokerMessage()).contains("no-such-job");
        assertThatThrownBy(() -> client.cancel("no-such-job")).isInstanceOf(JobNotFoundException.class);
    }

    @Test
    void priorityOutOfRange_throwsInvalidRequestNamingTheField() {
        InvalidRequestException e = catchThrowableOfType(InvalidRequestException.class,
                () -> client.enqueue(JobRequest.builder("emails", "x").priority(10).build()));

        assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.reason()).isEqualTo("INVALID_ARGUMENT");
        assertThat(e.field()).isEqualTo("jobs[0].priority");
    }

    @Test
    void fullQueue_isRetriedWithBackoff_thenThrowsQueueFull() {
        broker.setMaxDepth("tight", 1);
        client.enqueue("tight", "t", "fills it");
        try (HoistClient patient = HoistClient.builder().target(broker.target()).queueFullAttempts(3)
                .queueFullBackoff(Duration.ofMillis(10), Duration.ofMillis(40)).build()) {

            QueueFullException e = catchThrowableOfType(QueueFullException.class,
                    () -> patient.enqueue("tight", "t", "one too many"));

            assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.reason()).isEqualTo("QUEUE_FULL");
            assertThat(e.attempts()).isEqualTo(3);
            assertThat(e.getMessage()).contains("retried 2 times");
        }
    }

    @Test
    void fullQueue_thatDrainsDuringTheBackoff_storesTheJob() throws Exception {
        broker.setMaxDepth("tight", 1);
        String blocker = client.enqueue("tight", "t", "fills it").jobId();
        try (HoistClient patient = HoistClient.builder().target(broker.target()).queueFullAttempts(100)
                .queueFullBackoff(Duration.ofMillis(20), Duration.ofMillis(100)).build()) {
            CompletableFuture<Enqueued> pending = CompletableFuture.supplyAsync(() -> patient.enqueue("tight", "t", "next"));

            client.cancel(blocker);

            Enqueued stored = pending.get(20, TimeUnit.SECONDS);
            assertThat(stored.duplicate()).isFalse();
            assertThat(client.getJob(stored.jobId()).state()).isEqualTo(JobState.READY);
        }
    }

    @Test
    void brokerDown_throwsBrokerUnavailable_andARetryReconnectsOnceItIsBack() throws Exception {
        broker.stop();

        BrokerUnavailableException e = catchThrowableOfType(BrokerUnavailableException.class,
                () -> client.enqueue("emails", "x", "y"));
        assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);

        broker.startAgain();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> client.enqueue(JobRequest.builder("emails", "x").jobId("after-restart").build())
                        .jobId().equals("after-restart"));
    }

    @Test
    void enqueueAsync_manyInFlightOnOneStream_eachStoredAndAnsweredOnce() throws Exception {
        int jobs = 3 * HoistClient.ASYNC_WINDOW; // more than the window: submit must wait for answers, not fail
        List<CompletableFuture<Enqueued>> answers = new java.util.ArrayList<>();
        for (int i = 0; i < jobs; i++) {
            answers.add(client.enqueueAsync(JobRequest.builder("async", "t").payload(i).build()));
        }

        CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        List<String> ids = answers.stream().map(CompletableFuture::join).map(Enqueued::jobId).toList();
        assertThat(ids).doesNotHaveDuplicates().hasSize(jobs);
        for (int i = 0; i < jobs; i += 251) {
            assertThat(client.getJob(ids.get(i)).payload(Integer.class)).isEqualTo(i);
        }
    }

    @Test
    void enqueueAsync_aBadRequestFailsAlone_withTheSameExceptionAsTheBlockingCall() throws Exception {
        CompletableFuture<Enqueued> before = client.enqueueAsync(JobRequest.builder("async", "t").build());
        CompletableFuture<Enqueued> bad = client.enqueueAsync(JobRequest.builder("async", "x").priority(10).build());
        CompletableFuture<Enqueued> after = client.enqueueAsync(JobRequest.builder("async", "t").build());

        InvalidRequestException e = catchThrowableOfType(InvalidRequestException.class, () -> {
            try {
                bad.get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException x) {
                throw x.getCause();
            }
        });
        assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.reason()).isEqualTo("INVALID_ARGUMENT");
        assertThat(e.field()).isEqualTo("jobs[0].priority");
        assertThat(before.get(10, TimeUnit.SECONDS).state()).isEqualTo(JobState.READY);
        assertThat(after.get(10, TimeUnit.SECONDS).state()).isEqualTo(JobState.READY);
    }

    @Test
    void enqueueAsync_brokerDown_failsAsUnavailable_andANewStreamWorksOnceItIsBack() throws Exception {
        assertThat(client.enqueueAsync(JobRequest.builder("async", "t").build()).get(10, TimeUnit.SECONDS)).isNotNull();
        broker.stop();

        CompletableFuture<Enqueued> lost = client.enqueueAsync(JobRequest.builder("async", "t").build());
        assertThat(catchThrowableOfType(java.util.concurrent.ExecutionException.class, () -> lost.get(20, TimeUnit.SECONDS)))
                .hasCauseInstanceOf(BrokerUnavailableException.class);

        broker.startAgain();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> client.enqueueAsync(JobRequest.builder("async", "t").jobId("async-after-restart").build())
                        .get(5, TimeUnit.SECONDS).jobId().equals("async-after-restart"));
    }

    @Test
    void requestWithBothDelayAndRunAt_isRefusedByTheBuilder() {
        assertThatThrownBy(() -> JobRequest.builder("q", "t").delay(Duration.ofSeconds(1)).runAt(Instant.now()).build())
                .isInstanceOf(IllegalStateException.class);
    }
}
