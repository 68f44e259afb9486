package io.hoist.broker.grpc;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.proto.v1.EnqueueStreamRequest;
import io.hoist.proto.v1.EnqueueStreamResponse;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.QueueConfig;
import io.hoist.proto.v1.UpdateQueueRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.hoist.broker.grpc.BrokerFixture.spec;
import static org.assertj.core.api.Assertions.assertThat;

/** EnqueueStream through real gRPC: per-request answers, errors that do not end the stream, flow control. */
class EnqueueStreamTest {
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
    void manyRequestsInFlight_eachAnsweredOnceWithItsId_thenTheStreamCompletes() throws Exception {
        int requests = 2 * EnqueueStream.WINDOW + 1; // more than the broker reads ahead: flow control must go on
        Answers answers = new Answers();
        StreamObserver<EnqueueStreamRequest> stream = broker.jobsAsync().enqueueStream(answers);
        for (int i = 0; i < requests; i++) {
            stream.onNext(EnqueueStreamRequest.newBuilder().setRequestId(1000 + i)
                    .addJobs(spec("streamed").putHeaders("n", Integer.toString(i))).build());
        }
        stream.onCompleted();

        assertThat(answers.completed.await(30, TimeUnit.SECONDS)).as("stream completed").isTrue();
        assertThat(answers.error.get()).isNull();
        assertThat(answers.byId).hasSize(requests);
        for (int i = 0; i < requests; i += 97) {
            EnqueueStreamResponse r = answers.byId.get(1000L + i);
            assertThat(r.hasError()).isFalse();
            assertThat(r.getJobsList()).singleElement().satisfies(j -> assertThat(j.getState()).isEqualTo(JobState.JOB_STATE_READY));
            assertThat(broker.job(r.getJobs(0).getJobId()).getSpec().getHeadersMap()).containsEntry("n", Integer.toString(i));
        }
        assertThat(broker.admin().listQueues(io.hoist.proto.v1.ListQueuesRequest.getDefaultInstance()).getQueuesList())
                .filteredOn(q -> q.getName().equals("streamed")).singleElement()
                .satisfies(q -> assertThat(q.getReady()).isEqualTo(requests));
    }

    @Test
    void aBadRequestGetsItsErrorAndTheStreamGoesOn() throws Exception {
        Answers answers = new Answers();
        StreamObserver<EnqueueStreamRequest> stream = broker.jobsAsync().enqueueStream(answers);
        stream.onNext(EnqueueStreamRequest.newBuilder().setRequestId(1).addJobs(spec("q")).build());
        stream.onNext(EnqueueStreamRequest.newBuilder().setRequestId(2)
                .addJobs(spec("q")).addJobs(spec("q").setPriority(10)).build());
        stream.onNext(EnqueueStreamRequest.newBuilder().setRequestId(3).build()); // no jobs
        stream.onNext(EnqueueStreamRequest.newBuilder().setRequestId(4).addJobs(spec("q")).build());
        stream.onCompleted();

        assertThat(answers.completed.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(answers.byId.get(1L).getJobsCount()).isEqualTo(1);
        assertThat(answers.byId.get(2L).getError()).satisfies(e -> {
            assertThat(e.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
            assertThat(e.getReason()).isEqualTo("INVALID_ARGUMENT");
            assertThat(e.getField()).isEqualTo("jobs[1].priority");
            assertThat(e.getMessage()).contains("0-9").contains("10");
        });
        assertThat(answers.byId.get(2L).getJobsCount()).isZero();
        assertThat(answers.byId.get(3L).getError().getField()).isEqualTo("jobs");
        assertThat(answers.byId.get(4L).hasError()).isFalse();
        // the bad batch stored nothing, not even its valid first spec
        assertThat(broker.admin().listQueues(io.hoist.proto.v1.ListQueuesRequest.getDefaultInstance()).getQueues(0).getReady())
                .isEqualTo(2);
    }

    @Test
    void aFullQueueAnswersQueueFullForThatRequestOnly() throws Exception {
        broker.admin().updateQueue(UpdateQueueRequest.newBuilder().setName("small")
                .setConfig(QueueConfig.newBuilder().setMaxDepth(1)).build());
        Answers answers = new Answers();
        StreamObserver<EnqueueStreamRequest> stream = broker.jobsAsync().enqueueStream(answers);
        for (long id = 1; id <= 3; id++) {
            stream.onNext(EnqueueStreamRequest.newBuilder().setRequestId(id).addJobs(spec(id == 3 ? "other" : "small")).build());
        }
        stream.onCompleted();

        assertThat(answers.completed.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(answers.byId.get(1L).hasError()).isFalse();
        assertThat(answers.byId.get(2L).getError().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED.value());
        assertThat(answers.byId.get(2L).getError().getReason()).isEqualTo("QUEUE_FULL");
        assertThat(answers.byId.get(3L).hasError()).isFalse();
    }

    /** Collects a stream's answers by request id; fails on a repeated id. */
    private static final class Answers implements StreamObserver<EnqueueStreamResponse> {
        final Map<Long, EnqueueStreamResponse> byId = new ConcurrentHashMap<>();
        final CountDownLatch completed = new CountDownLatch(1);
        final AtomicReference<Throwable> error = new AtomicReference<>();

        @Override
        public void onNext(EnqueueStreamResponse r) {
            if (byId.putIfAbsent(r.getRequestId(), r) != null) {
                error.compareAndSet(null, new AssertionError("request " + r.getRequestId() + " answered twice"));
            }
        }

        @Override
        public void onError(Throwable t) {
            error.set(t);
            completed.countDown();
        }

        @Override
        public void onCompleted() {
            completed.countDown();
        }
    }
}
