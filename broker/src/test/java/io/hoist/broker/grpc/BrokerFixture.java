package io.hoist.broker.grpc;

import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.hoist.broker.BrokerServer;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.AckResult;
import io.hoist.proto.v1.AdminServiceGrpc;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.EnqueuedJob;
import io.hoist.proto.v1.GetJobRequest;
import io.hoist.proto.v1.HeartbeatRequest;
import io.hoist.proto.v1.HeartbeatResponse;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobAck;
import io.hoist.proto.v1.JobServiceGrpc;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.WorkerServiceGrpc;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A real broker (RocksDB store, engine loop, Netty gRPC server on a free port) and a plaintext
 * channel to it, plus builders and one-line shortcuts for the calls that tests repeat.
 *
 * <p>Every stub it hands out carries a fresh deadline, so a broken broker fails a test instead of
 * hanging it.
 */
final class BrokerFixture implements AutoCloseable {
    static final Duration CALL_DEADLINE = Duration.ofSeconds(10);

    private final BrokerServer server;
    private final ManagedChannel channel;

    private BrokerFixture(BrokerServer server, ManagedChannel channel) {
        this.server = server;
        this.channel = channel;
    }

    /** Starts a broker with {@code config} on free ports, with the system clock. */
    static BrokerFixture start(BrokerConfig config) throws IOException, InterruptedException {
        return start(new BrokerServer(config.withPorts(0, 0), Clock.systemUTC()));
    }

    /** Starts a broker on free ports whose data dir has as much room as {@code freeSpace} says. */
    static BrokerFixture start(BrokerConfig config, io.hoist.broker.store.DiskSpace.Source freeSpace)
            throws IOException, InterruptedException {
        return start(new BrokerServer(config.withPorts(0, 0), Clock.systemUTC(), freeSpace));
    }

    private static BrokerFixture start(BrokerServer unstarted) throws IOException, InterruptedException {
        BrokerServer server = unstarted.start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort())
                .usePlaintext()
                .maxInboundMessageSize(16 << 20)
                .build();
        return new BrokerFixture(server, channel);
    }

    JobServiceGrpc.JobServiceBlockingStub jobs() {
        return JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** For streams: no deadline of its own (a test bounds its waits). */
    JobServiceGrpc.JobServiceStub jobsAsync() {
        return JobServiceGrpc.newStub(channel);
    }

    AdminServiceGrpc.AdminServiceBlockingStub admin() {
        return AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    int httpPort() {
        return server.httpPort();
    }

    WorkerServiceGrpc.WorkerServiceBlockingStub workers() {
        return WorkerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A worker stub whose calls give up after {@code deadline} (a client that goes away). */
    WorkerServiceGrpc.WorkerServiceBlockingStub workers(Duration deadline) {
        return WorkerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** For WorkerStreams: no deadline of its own (a test bounds its waits). */
    WorkerServiceGrpc.WorkerServiceStub workerStreams() {
        return WorkerServiceGrpc.newStub(channel);
    }

    WorkerServiceGrpc.WorkerServiceFutureStub workersAsync() {
        return WorkerServiceGrpc.newFutureStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    // ------------------------------------------------------------------ builders

    /** A valid spec with a queue and a type; tests set what they care about. */
    static JobSpec.Builder spec(String queue) {
        return JobSpec.newBuilder().setQueue(queue).setType("test.job");
    }

    static com.google.protobuf.Duration millis(long millis) {
        return com.google.protobuf.Duration.newBuilder()
                .setSeconds(Math.floorDiv(millis, 1000))
                .setNanos((int) Math.floorMod(millis, 1000) * 1_000_000)
                .build();
    }

    static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }

    static long epochMillis(Timestamp t) {
        return t.getSeconds() * 1000 + t.getNanos() / 1_000_000;
    }

    // ------------------------------------------------------------------ shortcuts

    EnqueuedJob enqueue(JobSpec.Builder spec) {
        return enqueue(new JobSpec.Builder[]{spec}).get(0);
    }

    List<EnqueuedJob> enqueue(JobSpec.Builder... specs) {
        EnqueueRequest.Builder req = EnqueueRequest.newBuilder();
        Arrays.stream(specs).forEach(req::addJobs);
        return jobs().enqueue(req.build()).getJobsList();
    }

    /** Enqueues a plain job and returns its id. */
    String enqueueId(String queue) {
        return enqueue(spec(queue)).getJobId();
    }

    Job job(String id) {
        return jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }

    /** Waits (bounded) until the job is in {@code state}, and returns it. */
    Job awaitState(String id, JobState state) {
        return await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> job(id), j -> j.getState() == state);
    }

    /** Registers a worker without a concurrency limit and returns its id. */
    String register(String... queues) {
        return register(0, queues);
    }

    String register(int concurrency, String... queues) {
        return workers().register(RegisterRequest.newBuilder()
                .setName("test-worker").addAllQueues(List.of(queues)).setConcurrency(concurrency).build())
                .getWorkerId();
    }

    /** A Lease that does not wait. */
    List<LeasedJob> lease(String workerId, int maxJobs, String... queues) {
        return workers().lease(LeaseRequest.newBuilder()
                .setWorkerId(workerId).addAllQueues(List.of(queues)).setMaxJobs(maxJobs).build()).getJobsList();
    }

    /** Leases exactly one job from {@code queue}, failing the test if there is none. */
    LeasedJob leaseOne(String workerId, String queue) {
        List<LeasedJob> leased = lease(workerId, 1, queue);
        assertThat(leased).as("jobs leased from %s", queue).hasSize(1);
        return leased.get(0);
    }

    List<AckResult> ack(String workerId, LeasedJob... leased) {
        AckRequest.Builder req = AckRequest.newBuilder().setWorkerId(workerId);
        for (LeasedJob l : leased) {
            req.addAcks(JobAck.newBuilder().setJobId(l.getJob().getId()).setLeaseToken(l.getLeaseToken()));
        }
        return workers().ack(req.build()).getResultsList();
    }

    HeartbeatResponse heartbeat(String workerId, String... activeJobIds) {
        return workers().heartbeat(HeartbeatRequest.newBuilder()
                .setWorkerId(workerId).addAllActiveJobIds(List.of(activeJobIds)).build());
    }

    /** Shuts the broker down as an operator would, leaving the test's channel open. */
    void stopServer() {
        server.close();
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
        server.close();
    }
}
