package io.hoist.broker.grpc;

import com.google.protobuf.FieldMask;
import io.grpc.Status;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.proto.v1.DeleteDeadRequest;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.LeaseResponse;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.ListJobsRequest;
import io.hoist.proto.v1.ListJobsResponse;
import io.hoist.proto.v1.ListQueuesRequest;
import io.hoist.proto.v1.ListWorkersRequest;
import io.hoist.proto.v1.NackRequest;
import io.hoist.proto.v1.PurgeQueueRequest;
import io.hoist.proto.v1.QueueConfig;
import io.hoist.proto.v1.QueueInfo;
import io.hoist.proto.v1.RequeueDeadRequest;
import io.hoist.proto.v1.RetryPolicy;
import io.hoist.proto.v1.UpdateQueueRequest;
import io.hoist.proto.v1.WorkerInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.hoist.broker.grpc.BrokerFixture.millis;
import static io.hoist.broker.grpc.BrokerFixture.spec;
import static io.hoist.broker.grpc.RpcErrorAssert.assertRpcError;
import static org.assertj.core.api.Assertions.assertThat;

/** AdminService through real gRPC: queue settings and limits, purge, listing, the dead-letter queue. */
class AdminServiceTest {
    @TempDir
    Path dir;
    BrokerFixture broker;

    @BeforeEach
    void start() throws Exception {
        broker = BrokerFixture.start(BrokerConfig.defaults(dir.resolve("data")));
    }

    @AfterEach
    void stop() throws Exception {
        broker.close();
    }

    QueueInfo update(String queue, QueueConfig.Builder config, String... paths) {
        return broker.admin().updateQueue(UpdateQueueRequest.newBuilder().setName(queue).setConfig(config)
                .setUpdateMask(FieldMask.newBuilder().addAllPaths(List.of(paths))).build());
    }

    QueueInfo queue(String name) {
        return broker.admin().listQueues(ListQueuesRequest.getDefaultInstance()).getQueuesList().stream()
                .filter(q -> q.getName().equals(name)).findFirst().orElseThrow();
    }

    /** A job that is DEAD after one non-retryable nack. */
    String deadJob(String worker, String queue) {
        String id = broker.enqueueId(queue);
        LeasedJob lj = broker.leaseOne(worker, queue);
        broker.workers().nack(NackRequest.newBuilder().setWorkerId(worker).setJobId(lj.getJob().getId())
                .setLeaseToken(lj.getLeaseToken()).setError("broken").setNonRetryable(true).build());
        return id;
    }

    @Test
    void listQueues_countsJobsPerState() {
        broker.enqueueId("q");
        broker.enqueue(spec("q").setDelay(millis(60_000)));
        String w = broker.register("q");
        broker.enqueueId("q");
        broker.leaseOne(w, "q");
        deadJob(w, "q");
        QueueInfo q = queue("q");
        assertThat(q.getReady()).isEqualTo(1);
        assertThat(q.getScheduled()).isEqualTo(1);
        assertThat(q.getLeased()).isEqualTo(1);
        assertThat(q.getDead()).isEqualTo(1);
    }

    @Test
    void updateQueue_createsTheQueue_andReplacesOnlyTheMaskedFields() {
        QueueInfo created = update("fresh", QueueConfig.newBuilder().setMaxInFlight(3).setRateLimit(10));
        assertThat(created.getConfig().getMaxInFlight()).isEqualTo(3);
        assertThat(created.getConfig().getRateLimit()).isEqualTo(10);

        QueueInfo masked = update("fresh", QueueConfig.newBuilder().setMaxInFlight(7).setRateLimit(99), "max_in_flight");
        assertThat(masked.getConfig().getMaxInFlight()).isEqualTo(7);
        assertThat(masked.getConfig().getRateLimit()).isEqualTo(10);

        QueueInfo cleared = update("fresh", QueueConfig.newBuilder(), "rate_limit");
        assertThat(cleared.getConfig().hasRateLimit()).isFalse();
        assertThat(cleared.getConfig().getMaxInFlight()).isEqualTo(7);

        QueueInfo retry = update("fresh", QueueConfig.newBuilder().setRetry(RetryPolicy.newBuilder().setMaxAttempts(2)),
                "retry.max_attempts");
        assertThat(retry.getConfig().getRetry().getMaxAttempts()).isEqualTo(2);
    }

    @Test
    void updateQueue_refusesAnUnknownMaskPathAndBadValues() {
        assertRpcError(() -> update("q", QueueConfig.newBuilder(), "colour")).isInvalidField("update_mask.paths[0]");
        assertRpcError(() -> update("q", QueueConfig.newBuilder().setMaxInFlight(-1))).isInvalidField("config.max_in_flight");
        assertRpcError(() -> update("q", QueueConfig.newBuilder().setRateLimit(-5))).isInvalidField("config.rate_limit");
        assertRpcError(() -> update("q", QueueConfig.newBuilder().setRateLimit(1e-9))).isInvalidField("config.rate_limit");
        assertRpcError(() -> update("q", QueueConfig.newBuilder().setRateLimit(Double.NaN))).isInvalidField("config.rate_limit");
        assertRpcError(() -> update("bad name", QueueConfig.newBuilder())).isInvalidField("name");
    }

    @Test
    void queueDefaults_applyToJobsEnqueuedAfterwards() {
        update("q", QueueConfig.newBuilder().setRetry(RetryPolicy.newBuilder().setMaxAttempts(1)));
        String w = broker.register("q");
        String id = broker.enqueueId("q");
        LeasedJob lj = broker.leaseOne(w, "q");
        broker.workers().nack(NackRequest.newBuilder().setWorkerId(w).setJobId(id)
                .setLeaseToken(lj.getLeaseToken()).setError("once").build());
        assertThat(broker.job(id).getState()).isEqualTo(JobState.JOB_STATE_DEAD);
    }

    @Test
    void pausedQueue_leasesNothing_andResumingWakesAParkedLease() throws Exception {
        update("q", QueueConfig.newBuilder().setPaused(true));
        String id = broker.enqueueId("q");
        String w = broker.register("q");
        assertThat(broker.lease(w, 5, "q")).isEmpty();

        Future<LeaseResponse> parked = broker.workersAsync().lease(LeaseRequest.newBuilder().setWorkerId(w)
                .addQueues("q").setWait(millis(10_000)).build());
        update("q", QueueConfig.newBuilder().setPaused(false));
        assertThat(parked.get(5, TimeUnit.SECONDS).getJobsList()).extracting(lj -> lj.getJob().getId()).containsExactly(id);
    }

    @Test
    void maxInFlight_neverSeesOneLeaseMore() throws Exception {
        update("q", QueueConfig.newBuilder().setMaxInFlight(3));
        for (int i = 0; i < 10; i++) {
            broker.enqueueId("q");
        }
        List<String> workers = List.of(broker.register("q"), broker.register("q"), broker.register("q"));
        List<LeasedJob> held = new ArrayList<>();
        for (String w : workers) {
            held.addAll(broker.lease(w, 5, "q"));
        }
        assertThat(held).hasSize(3);
        assertThat(queue("q").getLeased()).isEqualTo(3);
        // an ack frees one slot, and only one
        broker.ack(held.get(0).getJob().getWorkerId(), held.get(0));
        int more = 0;
        for (String w : workers) {
            more += broker.lease(w, 5, "q").size();
        }
        assertThat(more).isEqualTo(1);
        assertThat(queue("q").getLeased()).isEqualTo(3);
    }

    @Test
    void maxDepth_refusesTheWholeBatch_andStoresNoneOfIt() {
        update("q", QueueConfig.newBuilder().setMaxDepth(3));
        broker.enqueueId("q");
        broker.enqueue(spec("q").setJobId("kept"));
        EnqueueRequest tooMany = EnqueueRequest.newBuilder()
                .addJobs(spec("q").setJobId("a")).addJobs(spec("q").setJobId("b")).build();
        assertRpcError(() -> broker.jobs().enqueue(tooMany)).hasCode(Status.Code.RESOURCE_EXHAUSTED).hasReason("QUEUE_FULL");
        assertThat(queue("q").getReady()).isEqualTo(2);
        assertRpcError(() -> broker.job("a")).hasCode(Status.Code.NOT_FOUND);

        // a duplicate adds nothing, so it fits
        EnqueueRequest dupAndOne = EnqueueRequest.newBuilder()
                .addJobs(spec("q").setJobId("kept")).addJobs(spec("q").setJobId("c")).build();
        assertThat(broker.jobs().enqueue(dupAndOne).getJobsList()).extracting(j -> j.getDuplicate()).containsExactly(true, false);
        assertThat(queue("q").getReady()).isEqualTo(3);
    }

    @Test
    void rateLimit_handsOutAboutItsRateToEagerWorkers() throws Exception {
        update("q", QueueConfig.newBuilder().setRateLimit(50));
        EnqueueRequest.Builder batch = EnqueueRequest.newBuilder();
        for (int i = 0; i < 1_000; i++) {
            batch.addJobs(spec("q"));
        }
        broker.jobs().enqueue(batch.build());
        List<String> workers = List.of(broker.register("q"), broker.register("q"));
        // the bucket starts full (one second's worth): take that burst first
        int burst = 0;
        for (int i = 0; i < 5 && burst < 50; i++) {
            burst += broker.lease(workers.get(0), 1_000, "q").size();
        }
        assertThat(burst).isBetween(50, 55);

        AtomicInteger leased = new AtomicInteger();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        ExecutorService pool = Executors.newFixedThreadPool(workers.size());
        try {
            List<Future<?>> loops = new ArrayList<>();
            for (String w : workers) {
                loops.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        long waitMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()));
                        LeaseResponse r = broker.workers().lease(LeaseRequest.newBuilder().setWorkerId(w).addQueues("q")
                                .setMaxJobs(1_000).setWait(millis(Math.min(waitMillis, 1_000))).build());
                        if (System.nanoTime() <= end) {
                            leased.addAndGet(r.getJobsCount());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : loops) {
                f.get(20, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(leased.get()).isBetween(225, 275);
    }

    @Test
    void purge_deletesScheduledAndReadyJobsOnly() {
        String w = broker.register("q");
        String leased = broker.enqueueId("q");
        broker.leaseOne(w, "q");
        broker.enqueueId("q");
        broker.enqueue(spec("q").setDelay(millis(60_000)));
        long removed = broker.admin().purgeQueue(PurgeQueueRequest.newBuilder().setName("q").build()).getRemoved();
        assertThat(removed).isEqualTo(2);
        QueueInfo q = queue("q");
        assertThat(q.getReady() + q.getScheduled()).isZero();
        assertThat(broker.job(leased).getState()).isEqualTo(JobState.JOB_STATE_LEASED);
    }

    @Test
    void listJobs_pagesThroughEveryStateOldestFirst_andReadyInLeaseOrder() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            ids.add(broker.enqueue(spec("q").setPriority(i % 2 == 0 ? 1 : 5)).getJobId());
        }
        Set<String> seen = new HashSet<>();
        List<String> inOrder = new ArrayList<>();
        String token = "";
        int pages = 0;
        do {
            ListJobsResponse page = broker.admin().listJobs(ListJobsRequest.newBuilder().setQueue("q")
                    .setPageSize(3).setPageToken(token).build());
            page.getJobsList().forEach(j -> {
                seen.add(j.getId());
                inOrder.add(j.getId());
            });
            token = page.getNextPageToken();
            pages++;
        } while (!token.isEmpty());
        assertThat(pages).isEqualTo(3);
        assertThat(inOrder).containsExactlyElementsOf(ids);

        List<String> ready = broker.admin().listJobs(ListJobsRequest.newBuilder().setQueue("q")
                .setState(JobState.JOB_STATE_READY).build()).getJobsList().stream().map(Job::getId).toList();
        assertThat(ready).containsExactly(ids.get(1), ids.get(3), ids.get(5), ids.get(0), ids.get(2), ids.get(4), ids.get(6));
        assertRpcError(() -> broker.admin().listJobs(ListJobsRequest.newBuilder().setQueue("q").setPageToken("junk").build()))
                .isInvalidField("page_token");
    }

    @Test
    void deadJobs_areListed_requeuedWithAttemptsReset_orDeleted() {
        String w = broker.register("q");
        String a = deadJob(w, "q");
        String b = deadJob(w, "q");
        List<Job> dead = broker.admin().listJobs(ListJobsRequest.newBuilder().setQueue("q")
                .setState(JobState.JOB_STATE_DEAD).build()).getJobsList();
        assertThat(dead).extracting(Job::getId).containsExactly(a, b);

        long requeued = broker.admin().requeueDead(RequeueDeadRequest.newBuilder().setQueue("q").addJobIds(a).build()).getRequeued();
        assertThat(requeued).isEqualTo(1);
        Job back = broker.job(a);
        assertThat(back.getState()).isEqualTo(JobState.JOB_STATE_READY);
        assertThat(back.getAttempt()).isZero();
        assertThat(back.getLastError()).isEqualTo("broken");

        long deleted = broker.admin().deleteDead(DeleteDeadRequest.newBuilder().setQueue("q").build()).getDeleted();
        assertThat(deleted).isEqualTo(1);
        assertRpcError(() -> broker.job(b)).hasCode(Status.Code.NOT_FOUND).hasReason("JOB_NOT_FOUND");
        assertThat(queue("q").getDead()).isZero();
    }

    @Test
    void adminCallsOnAnUnknownQueue_areNotFound() {
        assertRpcError(() -> broker.admin().purgeQueue(PurgeQueueRequest.newBuilder().setName("nope").build()))
                .hasCode(Status.Code.NOT_FOUND).hasReason("QUEUE_NOT_FOUND");
        assertRpcError(() -> broker.admin().listJobs(ListJobsRequest.newBuilder().setQueue("nope").build()))
                .hasCode(Status.Code.NOT_FOUND).hasReason("QUEUE_NOT_FOUND");
        assertRpcError(() -> broker.admin().requeueDead(RequeueDeadRequest.newBuilder().setQueue("nope").build()))
                .hasCode(Status.Code.NOT_FOUND).hasReason("QUEUE_NOT_FOUND");
    }

    @Test
    void listWorkers_showsEachSessionWithWhatItHolds() {
        String w = broker.register(2, "q");
        broker.enqueueId("q");
        broker.leaseOne(w, "q");
        List<WorkerInfo> workers = broker.admin().listWorkers(ListWorkersRequest.getDefaultInstance()).getWorkersList();
        assertThat(workers).hasSize(1);
        assertThat(workers.get(0).getWorkerId()).isEqualTo(w);
        assertThat(workers.get(0).getConcurrency()).isEqualTo(2);
        assertThat(workers.get(0).getInFlight()).isEqualTo(1);
        assertThat(workers.get(0).getQueuesList()).containsExactly("q");
    }

    @Test
    void queueSettingsAndPause_surviveARestart() throws Exception {
        update("q", QueueConfig.newBuilder().setPaused(true).setMaxDepth(10).setRateLimit(5));
        broker.enqueueId("q");
        broker.close();
        broker = BrokerFixture.start(BrokerConfig.defaults(dir.resolve("data")));
        QueueConfig config = queue("q").getConfig();
        assertThat(config.getPaused()).isTrue();
        assertThat(config.getMaxDepth()).isEqualTo(10);
        assertThat(config.getRateLimit()).isEqualTo(5);
        String w = broker.register("q");
        assertThat(broker.lease(w, 5, "q")).isEmpty();
    }
}
