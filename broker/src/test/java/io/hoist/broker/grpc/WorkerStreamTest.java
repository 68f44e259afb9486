package io.hoist.broker.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.proto.v1.AckResult;
import io.hoist.proto.v1.JobAck;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.WorkerStreamAcks;
import io.hoist.proto.v1.WorkerStreamRequest;
import io.hoist.proto.v1.WorkerStreamResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.hoist.broker.grpc.BrokerFixture.spec;
import static io.hoist.broker.grpc.RpcErrorAssert.assertRpcError;
import static io.hoist.proto.v1.AckOutcome.ACK_OUTCOME_ACKED;
import static io.hoist.proto.v1.AckOutcome.ACK_OUTCOME_LEASE_LOST;
import static io.hoist.proto.v1.JobState.JOB_STATE_READY;
import static io.hoist.proto.v1.JobState.JOB_STATE_SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/**
 * WorkerStream through real gRPC: credits bound what is pushed, acks answered by request id,
 * concurrency and long polls as for Lease, errors that end the stream (or only answer one
 * request), and how a stream ends (half-close, cancel, broker shutdown).
 */
class WorkerStreamTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

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

    @Test
    void creditsBoundWhatIsPushed_andAcksWithMoreCreditsBringTheRest() throws Exception {
        List<String> ids = broker.enqueue(spec("emails"), spec("emails"), spec("emails"), spec("emails"), spec("emails"))
                .stream().map(e -> e.getJobId()).toList();
        String worker = broker.register("emails");
        Stream stream = open();
        stream.send(first(worker).setCredits(2));

        List<LeasedJob> firstTwo = stream.awaitJobs(2);
        assertThat(firstTwo).extracting(l -> l.getJob().getId()).containsExactly(ids.get(0), ids.get(1));
        assertThat(firstTwo).allSatisfy(l -> assertThat(l.getLeaseToken()).isNotEmpty());
        stream.assertNoMoreJobs();
        assertThat(broker.job(ids.get(2)).getState()).isEqualTo(JOB_STATE_READY);

        stream.send(acks(7, firstTwo).setCredits(3));
        assertThat(stream.awaitAcks(7).getResultsList()).extracting(AckResult::getJobId, AckResult::getOutcome)
                .containsExactly(tuple(ids.get(0), ACK_OUTCOME_ACKED),
                        tuple(ids.get(1), ACK_OUTCOME_ACKED));
        List<LeasedJob> rest = stream.awaitJobs(3);
        stream.send(acks(8, rest));
        assertThat(stream.awaitAcks(8).getResultsList()).hasSize(3).allSatisfy(r ->
                assertThat(r.getOutcome()).isEqualTo(ACK_OUTCOME_ACKED));
        stream.halfClose();

        stream.awaitCompleted();
        assertThat(ids).allSatisfy(id -> assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_SUCCEEDED));
    }

    @Test
    void aParkedStreamIsPushedAJobEnqueuedLater() throws Exception {
        String worker = broker.register("emails");
        Stream stream = open();
        stream.send(first(worker).setCredits(4));
        stream.assertNoMoreJobs();

        String id = broker.enqueueId("emails");

        assertThat(stream.awaitJobs(1)).singleElement().satisfies(l -> assertThat(l.getJob().getId()).isEqualTo(id));
        assertThat(broker.job(id).getWorkerId()).isEqualTo(worker);
    }

    @Test
    void theWorkersConcurrencyHoldsBackPushes_untilAnAckFreesASlot() throws Exception {
        List<String> ids = broker.enqueue(spec("emails"), spec("emails")).stream().map(e -> e.getJobId()).toList();
        String worker = broker.register(1, "emails");
        Stream stream = open();
        stream.send(first(worker).setCredits(5));
        List<LeasedJob> held = stream.awaitJobs(1);
        stream.assertNoMoreJobs();

        stream.send(acks(1, held)); // no new credits: four are left

        assertThat(stream.awaitJobs(1)).singleElement().satisfies(l -> assertThat(l.getJob().getId()).isEqualTo(ids.get(1)));
    }

    @Test
    void theQueuesOfTheFirstMessageAreLeasedFrom_inOrder() throws Exception {
        String sms = broker.enqueueId("sms");
        String emails = broker.enqueueId("emails");
        String worker = broker.register("emails", "sms");
        Stream stream = open();
        stream.send(first(worker).addQueues("sms").setCredits(5));

        assertThat(stream.awaitJobs(1)).singleElement().satisfies(l -> assertThat(l.getJob().getId()).isEqualTo(sms));
        stream.assertNoMoreJobs();
        assertThat(broker.job(emails).getState()).isEqualTo(JOB_STATE_READY);
    }

    @Test
    void badAcksAreAnsweredWithTheirError_andTheStreamGoesOn() throws Exception {
        String id = broker.enqueueId("emails");
        String worker = broker.register("emails");
        Stream stream = open();
        stream.send(first(worker).setCredits(1));
        LeasedJob leased = stream.awaitJobs(1).get(0);

        stream.send(WorkerStreamRequest.newBuilder().setRequestId(1)
                .addAcks(JobAck.newBuilder().setJobId("").setLeaseToken(leased.getLeaseToken())));
        stream.send(WorkerStreamRequest.newBuilder().setRequestId(2)
                .addAcks(JobAck.newBuilder().setJobId(id).setLeaseToken("stale-token")));
        stream.send(acks(3, List.of(leased)));

        assertThat(stream.awaitAcks(1).getError()).satisfies(e -> {
            assertThat(e.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
            assertThat(e.getField()).isEqualTo("acks[0].job_id");
        });
        assertThat(stream.awaitAcks(2).getResults(0).getOutcome()).isEqualTo(ACK_OUTCOME_LEASE_LOST);
        assertThat(stream.awaitAcks(3).getResults(0).getOutcome()).isEqualTo(ACK_OUTCOME_ACKED);
        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_SUCCEEDED);
    }

    @Test
    void aFirstMessageWithoutAWorker_endsTheStreamAsInvalid() {
        Stream stream = open();
        stream.send(WorkerStreamRequest.newBuilder().setCredits(1));
        assertRpcError(stream::awaitCompleted).isInvalidField("worker_id");
    }

    @Test
    void anUnknownWorker_endsTheStreamAsNotFound() {
        Stream stream = open();
        stream.send(first("no-such-worker").setCredits(1));
        assertRpcError(stream::awaitCompleted).hasCode(Status.Code.NOT_FOUND).hasReason("WORKER_NOT_FOUND");
    }

    @Test
    void creditsBeyondTheLimit_endTheStreamAsInvalid() throws Exception {
        String worker = broker.register("emails");
        Stream stream = open();
        stream.send(first(worker).setCredits(600));
        stream.send(WorkerStreamRequest.newBuilder().setCredits(401)); // 1,001 unused
        assertRpcError(stream::awaitCompleted).isInvalidField("credits");
    }

    @Test
    void halfClose_endsTheStream_andItsParkedLeaseTakesNothing() throws Exception {
        String worker = broker.register("emails");
        Stream stream = open();
        stream.send(first(worker).setCredits(3));
        stream.assertNoMoreJobs();
        stream.halfClose();
        stream.awaitCompleted();

        String id = broker.enqueueId("emails");

        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_READY);
        assertThat(broker.leaseOne(worker, "emails").getJob().getId()).isEqualTo(id);
    }

    @Test
    void aCancelledStreamsParkedLeaseTakesNothing() throws Exception {
        String worker = broker.register("emails");
        Stream stream = open();
        stream.send(first(worker).setCredits(3));
        stream.assertNoMoreJobs();
        stream.cancel(); // its RST_STREAM reaches the broker before the next call on the connection

        String id = broker.enqueueId("emails");

        assertThat(broker.job(id).getState()).isEqualTo(JOB_STATE_READY);
        assertThat(broker.leaseOne(worker, "emails").getJob().getId()).isEqualTo(id);
    }

    @Test
    void aSessionThatExpires_endsItsStreamAsNotFound() throws Exception {
        broker.close();
        broker = BrokerFixture.start(BrokerConfig.defaults(dir.resolve("short"))
                .withSessionTimeout(Duration.ofMillis(600), Duration.ofMillis(200)));
        broker.enqueueId("emails");
        String worker = broker.register("emails");
        Stream stream = open();
        stream.send(first(worker).setCredits(2));
        stream.awaitJobs(1); // the second credit's lease is parked from the first one's answer

        assertRpcError(stream::awaitCompleted).hasCode(Status.Code.NOT_FOUND).hasReason("WORKER_NOT_FOUND");
    }

    @Test
    void brokerShutdown_endsStreamsAsUnavailable_alsoOnesWithoutCredits() throws Exception {
        broker.enqueueId("emails");
        String worker = broker.register("emails");
        Stream parked = open();
        parked.send(first(worker).setCredits(1));
        parked.awaitJobs(1);           // its one credit is used: no lease of its own in the engine
        Stream waiting = open();
        waiting.send(first(broker.register("emails")).setCredits(2)); // parked in the engine

        long started = System.nanoTime();
        broker.stopServer();

        assertRpcError(parked::awaitCompleted).hasCode(Status.Code.UNAVAILABLE).hasReason("SHUTTING_DOWN");
        assertRpcError(waiting::awaitCompleted).hasCode(Status.Code.UNAVAILABLE).hasReason("SHUTTING_DOWN");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("no wait for the server's 5 s grace")
                .isLessThan(Duration.ofSeconds(4));
    }

    // ------------------------------------------------------------------ helpers

    private Stream open() {
        Stream stream = new Stream();
        stream.requests = broker.workerStreams().workerStream(stream);
        return stream;
    }

    private static WorkerStreamRequest.Builder first(String worker) {
        return WorkerStreamRequest.newBuilder().setWorkerId(worker);
    }

    private static WorkerStreamRequest.Builder acks(long requestId, List<LeasedJob> leased) {
        WorkerStreamRequest.Builder req = WorkerStreamRequest.newBuilder().setRequestId(requestId);
        leased.forEach(l -> req.addAcks(JobAck.newBuilder().setJobId(l.getJob().getId()).setLeaseToken(l.getLeaseToken())));
        return req;
    }

    /** A client's end of one stream: pushed jobs in order, ack answers by request id, how it ended. */
    private static final class Stream implements StreamObserver<WorkerStreamResponse> {
        final LinkedBlockingQueue<LeasedJob> jobs = new LinkedBlockingQueue<>();
        final Map<Long, WorkerStreamAcks> acks = new ConcurrentHashMap<>();
        final CompletableFuture<Void> ended = new CompletableFuture<>();
        StreamObserver<WorkerStreamRequest> requests;

        void send(WorkerStreamRequest.Builder req) {
            requests.onNext(req.build());
        }

        void halfClose() {
            requests.onCompleted();
        }

        void cancel() {
            requests.onError(Status.CANCELLED.withDescription("test cancels").asRuntimeException());
        }

        List<LeasedJob> awaitJobs(int n) throws InterruptedException {
            List<LeasedJob> got = new ArrayList<>();
            while (got.size() < n) {
                LeasedJob j = jobs.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(j).as("job %d of %d pushed", got.size() + 1, n).isNotNull();
                got.add(j);
            }
            return got;
        }

        /** Nothing more is pushed for 300 ms. */
        void assertNoMoreJobs() throws InterruptedException {
            assertThat(jobs.poll(300, TimeUnit.MILLISECONDS)).as("a job pushed beyond what was expected").isNull();
        }

        WorkerStreamAcks awaitAcks(long requestId) {
            return await().atMost(WAIT).until(() -> acks.get(requestId), a -> a != null);
        }

        /** Returns once the broker ends the stream; throws its status if it ended with one. */
        void awaitCompleted() throws Exception {
            try {
                ended.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                throw (StatusRuntimeException) e.getCause();
            }
        }

        @Override
        public void onNext(WorkerStreamResponse r) {
            if (r.hasLeased()) {
                jobs.addAll(r.getLeased().getJobsList());
            } else if (acks.putIfAbsent(r.getAcked().getRequestId(), r.getAcked()) != null) {
                ended.completeExceptionally(new AssertionError("acks " + r.getAcked().getRequestId() + " answered twice"));
            }
        }

        @Override
        public void onError(Throwable t) {
            ended.completeExceptionally(t instanceof StatusRuntimeException ? t : Status.fromThrowable(t).asRuntimeException());
        }

        @Override
        public void onCompleted() {
            ended.complete(null);
        }
    }
}
