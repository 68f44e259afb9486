package io.hoist.sdk;

import io.hoist.proto.v1.QueueInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class WorkerTest {
    private static final Duration BOUND = Duration.ofSeconds(20);

    record Email(String to, String subject) {
    }

    @TempDir
    Path dataDir;
    TestBroker broker;
    HoistClient client;
    final List<Worker> workers = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        broker = TestBroker.start(dataDir, Duration.ofSeconds(5), Duration.ofMillis(250));
        client = broker.client();
    }

    @AfterEach
    void stop() {
        workers.forEach(Worker::close);
        client.close();
        broker.close();
    }

    private Worker.Builder worker(String queue) {
        return Worker.builder().target(broker.target()).queues(queue).gracePeriod(Duration.ofSeconds(5));
    }

    private Worker started(Worker.Builder b) {
        Worker w = b.build().start();
        workers.add(w);
        return w;
    }

    private JobInfo awaitState(String id, JobState state) {
        await().atMost(BOUND).ignoreExceptions().until(() -> client.getJob(id).state() == state);
        return client.getJob(id);
    }

    @Test
    void processes500Jobs_eachSucceedsExactlyOnce_neverAboveConcurrency_overItsWorkerStream() throws Exception {
        Map<String, Integer> runs = new ConcurrentHashMap<>();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        List<String> ids = new ArrayList<>();
        for (int batch = 0; batch < 5; batch++) {
            List<JobRequest> requests = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                requests.add(JobRequest.of("bulk", "count", Map.of("n", batch * 100 + i)));
            }
            client.enqueueBatch(requests).forEach(e -> ids.add(e.jobId()));
        }

        started(worker("bulk").concurrency(8).handle("count", ctx -> {
            mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
            runs.merge(ctx.id(), 1, Integer::sum);
            running.decrementAndGet();
        }));

        await().atMost(BOUND).until(() -> {
            QueueInfo q = broker.admin().listQueues(io.hoist.proto.v1.ListQueuesRequest.getDefaultInstance())
                    .getQueues(0);
            return q.getAckedTotal() == 500 && q.getReady() + q.getLeased() + q.getScheduled() == 0;
        });
        assertThat(runs).hasSize(500).allSatisfy((id, n) -> assertThat(n).as("runs of %s", id).isEqualTo(1));
        assertThat(ids).allSatisfy(id -> assertThat(client.getJob(id).state()).isEqualTo(JobState.SUCCEEDED));
        assertThat(mostAtOnce.get()).isBetween(1, 8);
        // leases and acks went up and down the worker's stream: no Lease or Ack call
        String metrics = broker.metrics();
        assertThat(metrics).contains("grpc_server_requests_received_messages_total{method=\"WorkerStream\"")
                .doesNotContain("method=\"Lease\"").doesNotContain("method=\"Ack\"");
    }

    @Test
    void failingHandler_isRetriedPerPolicy_thenDead() {
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        started(worker("flaky").handle("fail", ctx -> {
            attempts.add(ctx.attempt());
            throw new IllegalStateException("boom on attempt " + ctx.attempt());
        }));

        String id = client.enqueue(JobRequest.builder("flaky", "fail").retry(RetryPolicy.builder().maxAttempts(3)
                .backoff(Duration.ofMillis(10), Duration.ofMillis(50)).build()).build()).jobId();

        JobInfo job = awaitState(id, JobState.DEAD);
        assertThat(job.attempt()).isEqualTo(3);
        assertThat(job.deadReason()).isEqualTo(DeadReason.ATTEMPTS_EXHAUSTED);
        assertThat(job.lastError()).isEqualTo("boom on attempt 3");
        assertThat(job.errors()).extracting(JobError::attempt).containsExactly(1, 2, 3);
        assertThat(attempts).containsExactly(1, 2, 3);
    }

    @Test
    void handlerThatFailsTwice_succeedsOnTheThirdAttempt() {
        started(worker("flaky").handle("twice", ctx -> {
            if (ctx.attempt() < 3) {
                throw new RuntimeException("not yet");
            }
        }));

        String id = client.enqueue(JobRequest.builder("flaky", "twice").retry(RetryPolicy.builder()
                .backoff(Duration.ofMillis(10), Duration.ofMillis(20)).build()).build()).jobId();

        JobInfo job = awaitState(id, JobState.SUCCEEDED);
        assertThat(job.attempt()).isEqualTo(3);
    }

    @Test
    void nonRetryableException_sendsTheJobToDeadAtOnce() {
        started(worker("strict").handle("validate", ctx -> {
            throw new NonRetryableException("bad address: " + ctx.payload(Email.class).to());
        }));

        String id = client.enqueue("strict", "validate", new Email("nobody", "hi")).jobId();

        JobInfo job = awaitState(id, JobState.DEAD);
        assertThat(job.attempt()).isEqualTo(1);
        assertThat(job.deadReason()).isEqualTo(DeadReason.NON_RETRYABLE);
        assertThat(job.lastError()).isEqualTo("bad address: nobody");
    }

    @Test
    void jobOfAnUnknownType_isNackedAsNonRetryable() {
        started(worker("mixed").handle("known", ctx -> { }));

        String id = client.enqueue("mixed", "mystery", "?").jobId();

        JobInfo job = awaitState(id, JobState.DEAD);
        assertThat(job.deadReason()).isEqualTo(DeadReason.NON_RETRYABLE);
        assertThat(job.lastError()).contains("no handler for type mystery");
    }

    @Test
    void defaultHandler_runsTypesWithoutTheirOwn() {
        List<String> seen = new CopyOnWriteArrayList<>();
        started(worker("mixed").handle("known", ctx -> { }).defaultHandler(ctx -> seen.add(ctx.type())));

        String id = client.enqueue("mixed", "other", "?").jobId();

        awaitState(id, JobState.SUCCEEDED);
        assertThat(seen).containsExactly("other");
    }

    @Test
    void payloadThatCannotBeDecoded_goesToDeadWithoutRetries() {
        started(worker("strict").handle("validate", ctx -> ctx.payload(Email.class)));

        String id = client.enqueue(JobRequest.builder("strict", "validate")
                .payloadBytes("not json".getBytes(StandardCharsets.UTF_8)).build()).jobId();

        JobInfo job = awaitState(id, JobState.DEAD);
        assertThat(job.attempt()).isEqualTo(1);
        assertThat(job.deadReason()).isEqualTo(DeadReason.NON_RETRYABLE);
    }

    @Test
    void retryAfterException_schedulesTheRetryAfterTheGivenDelay() {
        started(worker("limited").handle("call-api", ctx -> {
            throw new RetryAfterException("429 from the API", Duration.ofHours(1));
        }));

        String id = client.enqueue("limited", "call-api", "x").jobId();

        JobInfo job = awaitState(id, JobState.SCHEDULED);
        assertThat(job.lastError()).isEqualTo("429 from the API");
        assertThat(job.runAt()).hasValueSatisfying(t -> assertThat(t).isAfter(Instant.now().plus(Duration.ofMinutes(50))));
    }

    @Test
    void longHandlerWithAShortLease_keepsItsLeaseThroughHeartbeats() {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        AtomicReference<JobContext> seen = new AtomicReference<>();
        AtomicBoolean extended = new AtomicBoolean();
        started(worker("slow").handle("crunch", ctx -> {
            runs.incrementAndGet();
            seen.set(ctx);
            extended.set(ctx.extendLease());
            started.countDown();
            ctx.progress("crunching");
            finish.await();
        }));

        String id = client.enqueue(JobRequest.builder("slow", "crunch").leaseDuration(Duration.ofSeconds(1)).build())
                .jobId();
        await().atMost(BOUND).until(() -> started.getCount() == 0);
        Instant firstDeadline = seen.get().leaseDeadline();

        // three lease durations pass, and the job is still held by its first delivery
        await().during(Duration.ofMillis(3_000)).atMost(Duration.ofSeconds(6))
                .until(() -> { JobInfo j = client.getJob(id); return j.state() == JobState.LEASED && j.attempt() == 1; });
        finish.countDown();

        JobInfo job = awaitState(id, JobState.SUCCEEDED);
        assertThat(job.attempt()).isEqualTo(1);
        assertThat(runs).hasValue(1);
        assertThat(extended).isTrue();
        assertThat(seen.get().isLeaseLost()).isFalse();
        assertThat(seen.get().leaseDeadline()).isAfter(firstDeadline.plusSeconds(1));
    }

    @Test
    void cancelOfARunningJob_interruptsItsHandler_andTheJobEndsCanceled() {
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        AtomicBoolean flagged = new AtomicBoolean();
        started(worker("cancellable").handle("wait", ctx -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.set(true);
                flagged.set(ctx.isCancelled());
                throw e;
            }
        }));
        String id = client.enqueue("cancellable", "wait", "x").jobId();
        await().atMost(BOUND).until(() -> started.getCount() == 0);

        assertThat(client.cancel(id)).isEqualTo(JobState.LEASED);

        awaitState(id, JobState.CANCELED);
        assertThat(interrupted).isTrue();
        assertThat(flagged).isTrue();
    }

    @Test
    void close_letsRunningJobsFinishAndAck_thenDeregisters() {
        CountDownLatch finish = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        Worker worker = started(worker("drain").concurrency(3).handle("work", ctx -> {
            running.incrementAndGet();
            finish.await();
        }));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(client.enqueue("drain", "work", i).jobId());
        }
        await().atMost(BOUND).until(() -> running.get() == 3);

        Thread closing = new Thread(worker::close);
        closing.start();
        String late = client.enqueue("drain", "work", "late").jobId();
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(closing::isAlive);
        finish.countDown();

        await().atMost(BOUND).until(() -> !closing.isAlive());
        assertThat(ids).allSatisfy(id -> assertThat(client.getJob(id).state()).isEqualTo(JobState.SUCCEEDED));
        assertThat(client.getJob(late).state()).isEqualTo(JobState.READY);
        assertThat(broker.workers()).isEmpty();
        assertThat(worker.isRunning()).isFalse();
    }

    @Test
    void close_pastTheGracePeriod_interruptsHandlers_andTheBrokerGivesTheJobBackUncharged() {
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        Worker worker = started(worker("stuck").gracePeriod(Duration.ofMillis(300)).handle("hang", ctx -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.set(true);
            }
        }));
        String id = client.enqueue("stuck", "hang", "x").jobId();
        await().atMost(BOUND).until(() -> started.getCount() == 0);

        worker.close();

        JobInfo job = client.getJob(id);
        assertThat(job.state()).isEqualTo(JobState.READY);
        assertThat(job.attempt()).isZero();
        await().atMost(BOUND).untilTrue(interrupted);
        assertThat(broker.workers()).isEmpty();
    }
}
