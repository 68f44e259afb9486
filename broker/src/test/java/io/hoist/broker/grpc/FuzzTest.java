package io.hoist.broker.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import com.google.protobuf.FieldMask;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.hoist.broker.BrokerServer;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.broker.runtime.FsyncPolicy;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.AckResponse;
import io.hoist.proto.v1.AdminServiceGrpc;
import io.hoist.proto.v1.CancelJobRequest;
import io.hoist.proto.v1.CreateCheckpointRequest;
import io.hoist.proto.v1.DeleteDeadRequest;
import io.hoist.proto.v1.DeregisterRequest;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.EnqueueResponse;
import io.hoist.proto.v1.EnqueuedJob;
import io.hoist.proto.v1.GetJobRequest;
import io.hoist.proto.v1.HeartbeatRequest;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobAck;
import io.hoist.proto.v1.JobServiceGrpc;
import io.hoist.proto.v1.JobSpec;
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
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.RequeueDeadRequest;
import io.hoist.proto.v1.RetryPolicy;
import io.hoist.proto.v1.UpdateQueueRequest;
import io.hoist.proto.v1.WorkerInfo;
import io.hoist.proto.v1.WorkerServiceGrpc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes every RPC of JobService, WorkerService and AdminService through a real gRPC channel to a
 * real broker (API.md: "Nothing a client sends may crash the broker, corrupt the store, or lose a
 * stored job"): random and boundary field values, raw random bytes as request messages,
 * unknown ids, stale tokens and calls out of order, mixed with valid traffic so that the store
 * holds real jobs in every state. Every call must end with a status from API.md's error table;
 * afterwards the broker is healthy and ready, and the store's counts agree with its listings,
 * also after a restart on the same data directory.
 *
 * <p>The suite replays a fixed seed; {@code -Dfuzz.seed=random} draws a new one and
 * {@code -Dfuzz.seed=N} replays a run (single-threaded, so the request sequence is the same;
 * the broker's timing still varies), {@code -Dfuzz.requests=N} sets its length.
 */
class FuzzTest {
    private static final java.time.Duration CALL_DEADLINE = java.time.Duration.ofSeconds(10);
    private static final int MAX_PAYLOAD = 1 << 20;
    private static final List<String> QUEUES = List.of("fz-a", "fz-b", "fz-c", "fz.d_1", "Z".repeat(128));
    /** Holds the few jobs with a payload of exactly the limit, listed a few at a time. */
    private static final String BIG_QUEUE = "fz-big";
    private static final Set<Status.Code> API_CODES = Set.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
            Status.Code.NOT_FOUND, Status.Code.FAILED_PRECONDITION, Status.Code.RESOURCE_EXHAUSTED,
            Status.Code.UNAVAILABLE);
    /**
     * What grpc-java (1.85) itself answers when a request's bytes do not parse as the method's
     * message, before any broker code runs: the generated marshaller (ProtoLiteUtils) throws
     * {@code INTERNAL: Invalid protobuf byte sequence}, but ServerImpl closes the call with
     * {@code UNKNOWN: Application error processing RPC} whatever the exception says (and logs it at
     * SEVERE). That is outside API.md's table; it is allowed here for raw bytes only, matched on
     * the exact description, so that any other UNKNOWN still fails. (Answering INVALID_ARGUMENT
     * would take parsing requests in the broker's own call layer; reported, not changed here.)
     */
    private static boolean transportRefusedUnparsable(Status s) {
        return s.getCode() == Status.Code.UNKNOWN && "Application error processing RPC".equals(s.getDescription());
    }

    /** The loggers through which grpc-java reports each unparsable request at SEVERE, muted during the run. */
    private static final List<java.util.logging.Logger> GRPC_LOGGERS = List.of(
            java.util.logging.Logger.getLogger("io.grpc.internal.SerializingExecutor"),
            java.util.logging.Logger.getLogger("io.grpc.internal.SerializeReentrantCallsDirectExecutor"));

    @TempDir
    Path dir;

    private final Random rnd;
    private final long seed;
    private final int requests;
    private ManagedChannel channel;
    private BrokerServer server;

    // what the valid traffic learned; the fuzzer draws ids and tokens from here
    private final List<String> jobIds = new ArrayList<>();
    private final List<String> workerIds = new ArrayList<>();
    private final List<String> deregistered = new ArrayList<>();
    private final List<LeasedJob> held = new ArrayList<>();
    private final List<LeasedJob> finished = new ArrayList<>(); // acked or nacked: their tokens are stale
    private int bigJobs;

    private final Map<String, Map<String, Integer>> histogram = new TreeMap<>();
    private final List<String> failures = new ArrayList<>();
    private int sent;
    /** The request of the call being judged, where it helps to explain a failure. */
    private String lastRequest = "";

    FuzzTest() {
        // the suite replays a fixed seed so that CI is repeatable; -Dfuzz.seed=random explores
        String chosen = System.getProperty("fuzz.seed", "6514518466230");
        seed = chosen.equals("random") ? System.nanoTime() : Long.parseLong(chosen);
        requests = Integer.getInteger("fuzz.requests", 20_000);
        rnd = new Random(seed);
    }

    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void everyCallEndsWithAnApiStatusAndTheStoreStaysConsistent() throws Exception {
        System.out.printf("FuzzTest: seed %d (-Dfuzz.seed=%d), %d requests%n", seed, seed, requests);
        Path data = dir.resolve("data");
        // sessions expire during the run (3 s); fsync never: durability is not what this test is about
        BrokerConfig config = new BrokerConfig(data, "127.0.0.1", 0, 0, FsyncPolicy.NEVER,
                java.time.Duration.ofMillis(50), java.time.Duration.ofSeconds(3), java.time.Duration.ofSeconds(1),
                MAX_PAYLOAD, java.time.Duration.ofMinutes(30), 1_000);
        start(config);
        long t0 = System.nanoTime();
        List<java.util.logging.Level> levels = GRPC_LOGGERS.stream().map(java.util.logging.Logger::getLevel).toList();
        try {
            GRPC_LOGGERS.forEach(l -> l.setLevel(java.util.logging.Level.OFF));
            try {
                while (sent < requests && failures.size() < 20) {
                    step();
                }
            } finally {
                for (int i = 0; i < GRPC_LOGGERS.size(); i++) {
                    GRPC_LOGGERS.get(i).setLevel(levels.get(i));
                }
            }
            long fuzzMillis = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("FuzzTest: %d requests in %d ms (%.0f/s)%n", sent, fuzzMillis, sent * 1000.0 / fuzzMillis);
            printHistogram();
            assertThat(failures).as("calls that ended with a status outside API.md's table (seed %d)", seed).isEmpty();

            assertHealthy();
            Map<String, long[]> counts = awaitConsistentStore();
            Map<String, JobState> jobs = allJobs(counts.keySet());

            server.close();
            start(config);
            assertHealthy();
            // leases of a few ms (the fuzzer makes them) may run out around the restart, so a job
            // may have moved on by time alone; nothing may be lost, appear, or move any other way
            Map<String, long[]> after = awaitConsistentStore();
            assertThat(after.keySet()).as("queues after a restart on the same data dir").isEqualTo(counts.keySet());
            Map<String, JobState> restarted = allJobs(after.keySet());
            assertThat(restarted.keySet()).as("job ids after a restart on the same data dir").isEqualTo(jobs.keySet());
            jobs.forEach((id, before) -> assertThat(movedByTimeAlone(before, restarted.get(id)))
                    .as("job %s was %s before the restart and %s after", id, before, restarted.get(id)).isTrue());
            System.out.printf("FuzzTest: %d jobs in %d queues, consistent before and after a restart; total %d ms%n",
                    jobs.size(), counts.size(), (System.nanoTime() - t0) / 1_000_000);
        } finally {
            stop();
        }
    }

    /** The same state, or one a lease expiry, a session expiry or a due run_at leads to. */
    private static boolean movedByTimeAlone(JobState before, JobState after) {
        return before == after
                || (before == JobState.JOB_STATE_LEASED && (after == JobState.JOB_STATE_READY
                        || after == JobState.JOB_STATE_DEAD || after == JobState.JOB_STATE_CANCELED))
                || (before == JobState.JOB_STATE_SCHEDULED && after == JobState.JOB_STATE_READY);
    }

    private void start(BrokerConfig config) throws IOException, InterruptedException {
        server = new BrokerServer(config, Clock.systemUTC()).start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext()
                .maxInboundMessageSize(64 << 20).build();
    }

    private void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow();
            channel.awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
    }

    private JobServiceGrpc.JobServiceBlockingStub jobs() {
        return JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    private WorkerServiceGrpc.WorkerServiceBlockingStub workers() {
        return WorkerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    private AdminServiceGrpc.AdminServiceBlockingStub admin() {
        return AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    // ------------------------------------------------------------------ one step

    private void step() {
        int dice = rnd.nextInt(100);
        if (dice < 30) {
            validTraffic();
        } else if (dice < 40) {
            outOfOrder();
        } else if (dice < 48) {
            rawBytes();
        } else {
            fuzzedCall();
        }
    }

    /** Well-formed calls that move real jobs through their states. */
    private void validTraffic() {
        switch (rnd.nextInt(10)) {
            case 0, 1, 2 -> {
                EnqueueRequest.Builder req = EnqueueRequest.newBuilder();
                int n = 1 + rnd.nextInt(rnd.nextInt(20) == 0 ? 200 : 5);
                for (int i = 0; i < n; i++) {
                    req.addJobs(validSpec());
                }
                EnqueueResponse resp = call("Enqueue/valid", () -> jobs().enqueue(req.build()));
                if (resp != null) {
                    resp.getJobsList().forEach(j -> remember(jobIds, j.getJobId(), 5_000));
                }
            }
            case 3 -> {
                RegisterRequest.Builder req = RegisterRequest.newBuilder().setName("fuzz-worker")
                        .setConcurrency(rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(5) : 0);
                QUEUES.stream().filter(q -> rnd.nextBoolean()).forEach(req::addQueues);
                var resp = call("Register/valid", () -> workers().register(req.build()));
                if (resp != null) {
                    remember(workerIds, resp.getWorkerId(), 50);
                }
            }
            case 4, 5 -> {
                String worker = worker();
                if (worker == null) {
                    return;
                }
                LeaseRequest.Builder req = LeaseRequest.newBuilder().setWorkerId(worker).setMaxJobs(1 + rnd.nextInt(10));
                if (rnd.nextBoolean()) {
                    req.addQueues(pick(QUEUES));
                }
                if (rnd.nextInt(4) == 0) {
                    req.setWait(BrokerFixture.millis(rnd.nextInt(50)));
                }
                lastRequest = req.build().toString().replace('\n', ' ') + " at " + Instant.now();
                LeaseResponse resp = call("Lease/valid", () -> workers().lease(req.build()));
                if (resp != null) {
                    held.addAll(resp.getJobsList());
                }
            }
            case 6, 7 -> {
                LeasedJob lj = takeHeld();
                if (lj == null) {
                    return;
                }
                call("Ack/valid", () -> workers().ack(AckRequest.newBuilder().setWorkerId(lj.getJob().getWorkerId())
                        .addAcks(JobAck.newBuilder().setJobId(lj.getJob().getId()).setLeaseToken(lj.getLeaseToken()))
                        .build()));
                remember(finished, lj, 2_000);
            }
            case 8 -> {
                LeasedJob lj = takeHeld();
                if (lj == null) {
                    return;
                }
                call("Nack/valid", () -> workers().nack(NackRequest.newBuilder().setWorkerId(lj.getJob().getWorkerId())
                        .setJobId(lj.getJob().getId()).setLeaseToken(lj.getLeaseToken()).setError("fuzz: " + str())
                        .setNonRetryable(rnd.nextInt(3) == 0)
                        .setRetryAfter(BrokerFixture.millis(rnd.nextInt(1_000))).build()));
                remember(finished, lj, 2_000);
            }
            default -> {
                String worker = worker();
                if (worker == null) {
                    return;
                }
                HeartbeatRequest.Builder req = HeartbeatRequest.newBuilder().setWorkerId(worker);
                held.stream().filter(l -> l.getJob().getWorkerId().equals(worker)).forEach(l -> req.addActiveJobIds(l.getJob().getId()));
                call("Heartbeat/valid", () -> workers().heartbeat(req.build()));
            }
        }
    }

    /** Calls that are well-formed but come at the wrong moment: the state machine must say no politely. */
    private void outOfOrder() {
        switch (rnd.nextInt(8)) {
            case 0 -> { // ack of a job that was never leased (or already finished)
                String id = jobId();
                call("Ack/before-lease", () -> workers().ack(AckRequest.newBuilder().setWorkerId(anyWorkerId())
                        .addAcks(JobAck.newBuilder().setJobId(id).setLeaseToken(token())).build()));
            }
            case 1 -> { // heartbeat, lease and deregister after deregister
                String worker = workerIds.isEmpty() ? null : workerIds.remove(rnd.nextInt(workerIds.size()));
                if (worker == null) {
                    return;
                }
                call("Deregister/valid", () -> workers().deregister(DeregisterRequest.newBuilder().setWorkerId(worker).build()));
                held.removeIf(l -> l.getJob().getWorkerId().equals(worker) && remember(finished, l, 2_000));
                remember(deregistered, worker, 200);
                call("Heartbeat/after-deregister", () -> workers().heartbeat(HeartbeatRequest.newBuilder()
                        .setWorkerId(worker).build()));
                call("Lease/after-deregister", () -> workers().lease(LeaseRequest.newBuilder().setWorkerId(worker).build()));
                call("Deregister/twice", () -> workers().deregister(DeregisterRequest.newBuilder().setWorkerId(worker).build()));
            }
            case 2 -> { // nack twice, ack after nack, nack after ack: stale tokens
                if (finished.isEmpty()) {
                    return;
                }
                LeasedJob lj = pick(finished);
                if (rnd.nextBoolean()) {
                    call("Nack/stale-token", () -> workers().nack(NackRequest.newBuilder()
                            .setWorkerId(lj.getJob().getWorkerId()).setJobId(lj.getJob().getId())
                            .setLeaseToken(lj.getLeaseToken()).setError("twice").build()));
                } else {
                    call("Ack/stale-token", () -> workers().ack(AckRequest.newBuilder().setWorkerId(lj.getJob().getWorkerId())
                            .addAcks(JobAck.newBuilder().setJobId(lj.getJob().getId()).setLeaseToken(lj.getLeaseToken())).build()));
                }
            }
            case 3 -> { // a held job with another job's token
                if (held.size() < 2) {
                    return;
                }
                LeasedJob a = pick(held);
                LeasedJob b = pick(held);
                call("Nack/wrong-token", () -> workers().nack(NackRequest.newBuilder().setWorkerId(a.getJob().getWorkerId())
                        .setJobId(a.getJob().getId()).setLeaseToken(b.getLeaseToken() + (a == b ? "x" : "")).build()));
            }
            case 4 -> { // cancel, then cancel again, then ack the cancelled job
                String id = jobId();
                call("CancelJob/known", () -> jobs().cancelJob(CancelJobRequest.newBuilder().setJobId(id).build()));
                call("CancelJob/twice", () -> jobs().cancelJob(CancelJobRequest.newBuilder().setJobId(id).build()));
            }
            case 5 -> { // a heartbeat for jobs this worker does not hold
                String worker = worker();
                if (worker == null) {
                    return;
                }
                HeartbeatRequest.Builder req = HeartbeatRequest.newBuilder().setWorkerId(worker);
                for (int i = rnd.nextInt(5); i >= 0; i--) {
                    req.addActiveJobIds(jobId());
                }
                call("Heartbeat/foreign-jobs", () -> workers().heartbeat(req.build()));
            }
            case 6 -> { // requeue and delete dead jobs by known ids, or all
                String queue = pick(QUEUES);
                List<String> ids = rnd.nextBoolean() ? List.of() : List.of(jobId(), jobId());
                if (rnd.nextBoolean()) {
                    call("RequeueDead/known", () -> admin().requeueDead(RequeueDeadRequest.newBuilder()
                            .setQueue(queue).addAllJobIds(ids).build()));
                } else {
                    call("DeleteDead/known", () -> admin().deleteDead(DeleteDeadRequest.newBuilder()
                            .setQueue(queue).addAllJobIds(ids).build()));
                }
            }
            default -> { // an unknown worker leasing and nacking a job that is held by someone else
                if (held.isEmpty()) {
                    return;
                }
                LeasedJob lj = pick(held);
                call("Nack/other-worker", () -> workers().nack(NackRequest.newBuilder().setWorkerId(anyWorkerId())
                        .setJobId(lj.getJob().getId()).setLeaseToken(token()).build()));
                call("Lease/unknown-worker", () -> workers().lease(LeaseRequest.newBuilder()
                        .setWorkerId(str()).setMaxJobs(int32()).build()));
            }
        }
    }

    /** Every RPC with random and boundary field values. */
    private void fuzzedCall() {
        switch (rnd.nextInt(17)) {
            case 0, 1 -> {
                EnqueueRequest req = fuzzedEnqueue();
                call("Enqueue", () -> jobs().enqueue(req)); // not remembered: it may hold odd ids
            }
            case 2 -> {
                if (rnd.nextInt(4) == 0) {
                    fuzzedStream();
                } else {
                    call("GetJob", () -> jobs().getJob(GetJobRequest.newBuilder().setJobId(jobId()).build()));
                }
            }
            case 3 -> call("CancelJob", () -> jobs().cancelJob(CancelJobRequest.newBuilder().setJobId(jobId()).build()));
            case 4 -> {
                RegisterRequest.Builder req = RegisterRequest.newBuilder().setName(str()).setConcurrency(int32())
                        .putAllLabels(map());
                for (int i = smallCount(); i > 0; i--) {
                    req.addQueues(queueName());
                }
                var resp = call("Register", () -> workers().register(req.build()));
                if (resp != null && rnd.nextInt(4) == 0) {
                    remember(workerIds, resp.getWorkerId(), 50);
                }
            }
            case 5 -> {
                HeartbeatRequest.Builder req = HeartbeatRequest.newBuilder().setWorkerId(anyWorkerId());
                int n = switch (rnd.nextInt(20)) {
                    case 0 -> 10_000;
                    case 1 -> 10_001;
                    default -> smallCount();
                };
                for (int i = 0; i < n; i++) {
                    req.addActiveJobIds(n > 100 ? "j" + i : jobId());
                }
                call("Heartbeat", () -> workers().heartbeat(req.build()));
            }
            case 6, 7 -> {
                if (rnd.nextInt(4) == 0) {
                    fuzzedWorkerStream();
                } else {
                    fuzzedLease();
                }
            }
            case 8 -> {
                AckRequest.Builder req = AckRequest.newBuilder().setWorkerId(anyWorkerId());
                int n = switch (rnd.nextInt(20)) {
                    case 0 -> 0;
                    case 1 -> 1_000;
                    case 2 -> 1_001;
                    default -> 1 + smallCount();
                };
                for (int i = 0; i < n; i++) {
                    JobAck.Builder a = JobAck.newBuilder();
                    if (!held.isEmpty() && rnd.nextInt(4) == 0) {
                        LeasedJob lj = pick(held); // a real job with a real (or mangled) token
                        a.setJobId(lj.getJob().getId()).setLeaseToken(rnd.nextBoolean() ? lj.getLeaseToken() : token());
                    } else {
                        a.setJobId(n > 100 ? "j" + i : jobId()).setLeaseToken(token());
                    }
                    req.addAcks(a);
                }
                AckResponse resp = call("Ack", () -> workers().ack(req.build()));
                if (resp != null) {
                    Set<String> acked = new HashSet<>();
                    resp.getResultsList().forEach(r -> acked.add(r.getJobId()));
                    held.removeIf(l -> acked.contains(l.getJob().getId()) && remember(finished, l, 2_000));
                }
            }
            case 9 -> {
                NackRequest.Builder req = NackRequest.newBuilder().setWorkerId(anyWorkerId()).setJobId(jobId())
                        .setLeaseToken(token()).setError(rnd.nextInt(10) == 0 ? "e".repeat(5_000 + rnd.nextInt(100_000)) : str())
                        .setNonRetryable(rnd.nextBoolean());
                if (!held.isEmpty() && rnd.nextInt(3) == 0) {
                    LeasedJob lj = pick(held);
                    req.setJobId(lj.getJob().getId()).setLeaseToken(lj.getLeaseToken());
                }
                if (rnd.nextBoolean()) {
                    req.setRetryAfter(duration());
                }
                NackRequest built = req.build();
                call("Nack", () -> workers().nack(built));
            }
            case 10 -> call("Deregister", () -> workers().deregister(DeregisterRequest.newBuilder()
                    .setWorkerId(rnd.nextInt(4) == 0 && !deregistered.isEmpty() ? pick(deregistered) : str()).build()));
            case 11 -> call("ListQueues", () -> admin().listQueues(ListQueuesRequest.getDefaultInstance()));
            case 12 -> fuzzedUpdateQueue();
            case 13 -> {
                // purge rarely, so that the store keeps jobs in every state
                String name = rnd.nextInt(5) == 0 ? pick(QUEUES) : queueName();
                call("PurgeQueue", () -> admin().purgeQueue(PurgeQueueRequest.newBuilder().setName(name).build()));
            }
            case 14 -> {
                ListJobsRequest.Builder req = ListJobsRequest.newBuilder().setQueue(queueName()).setPageSize(int32())
                        .setStateValue(rnd.nextInt(3) == 0 ? int32() : rnd.nextInt(7));
                switch (rnd.nextInt(4)) {
                    case 0 -> req.setPageToken(str());
                    case 1 -> req.setPageToken(jobId());
                    default -> { }
                }
                ListJobsRequest built = req.build();
                ListJobsResponse resp = call("ListJobs", () -> admin().listJobs(built));
                if (resp != null && !resp.getNextPageToken().isEmpty() && rnd.nextBoolean()) {
                    // a real token, but for another queue or state
                    call("ListJobs/foreign-token", () -> admin().listJobs(ListJobsRequest.newBuilder()
                            .setQueue(pick(QUEUES)).setStateValue(rnd.nextInt(7)).setPageToken(resp.getNextPageToken()).build()));
                }
            }
            case 15 -> {
                String queue = queueName();
                List<String> ids = new ArrayList<>();
                for (int i = smallCount(); i > 0; i--) {
                    ids.add(jobId());
                }
                if (rnd.nextBoolean()) {
                    call("RequeueDead", () -> admin().requeueDead(RequeueDeadRequest.newBuilder().setQueue(queue).addAllJobIds(ids).build()));
                } else {
                    call("DeleteDead", () -> admin().deleteDead(DeleteDeadRequest.newBuilder().setQueue(queue).addAllJobIds(ids).build()));
                }
            }
            default -> {
                if (rnd.nextBoolean()) {
                    call("ListWorkers", () -> admin().listWorkers(ListWorkersRequest.getDefaultInstance()));
                } else {
                    // CreateCheckpoint only with paths it must refuse: empty, relative, not a path, existing
                    String path = switch (rnd.nextInt(5)) {
                        case 0 -> "";
                        case 1 -> "relative/" + str();
                        case 2 -> "\0";
                        case 3 -> dir.toString();
                        default -> str().replace("/", "");
                    };
                    if (!path.startsWith("/") || path.equals(dir.toString())) {
                        call("CreateCheckpoint/refused", () -> admin().createCheckpoint(
                                CreateCheckpointRequest.newBuilder().setPath(path).build()));
                    }
                }
            }
        }
    }

    /**
     * An EnqueueStream with a few fuzzed batches (ids may repeat): the stream must end OK once
     * half-closed, and each answer's error code must be one of API.md's.
     */
    private void fuzzedStream() {
        call("EnqueueStream", () -> {
            java.util.concurrent.LinkedBlockingQueue<Object> answers = new java.util.concurrent.LinkedBlockingQueue<>();
            io.grpc.stub.StreamObserver<io.hoist.proto.v1.EnqueueStreamRequest> stream =
                    JobServiceGrpc.newStub(channel).enqueueStream(into(answers));
            int requests = 1 + rnd.nextInt(5);
            for (int i = 0; i < requests; i++) {
                stream.onNext(io.hoist.proto.v1.EnqueueStreamRequest.newBuilder().setRequestId(rnd.nextInt(3))
                        .addAllJobs(fuzzedEnqueue().getJobsList()).build());
            }
            stream.onCompleted();
            for (int answered = 0; ; ) {
                Object a = answers.poll(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
                if (a == null) {
                    throw Status.DEADLINE_EXCEEDED.withDescription("stream not ended").asRuntimeException();
                } else if (a instanceof Throwable t) {
                    throw Status.fromThrowable(t).asRuntimeException();
                } else if (a == Status.OK) {
                    if (answered != requests) {
                        throw Status.INTERNAL.withDescription(answered + " answers to " + requests + " requests").asRuntimeException();
                    }
                    return null;
                } else if (a instanceof io.hoist.proto.v1.EnqueueStreamResponse r) {
                    answered++;
                    Status.Code code = r.hasError() ? Status.fromCodeValue(r.getError().getCode()).getCode() : Status.Code.OK;
                    histogram.computeIfAbsent("EnqueueStream/answer", k -> new TreeMap<>()).merge(code.name(), 1, Integer::sum);
                    if (!API_CODES.contains(code)) {
                        failures.add("#" + sent + " EnqueueStream answer -> " + r.getError());
                    }
                }
            }
        });
    }

    /**
     * A WorkerStream with a fuzzed first message (worker id, queues, credits) and a few fuzzed
     * messages after it (credits, acks of pushed, held or made-up jobs with real, stale or odd
     * tokens): once half-closed it must end OK or with one of API.md's codes, and each ack answer's
     * error code must be one of them. Jobs pushed and not acked stay with their session, which expires.
     */
    private void fuzzedWorkerStream() {
        call("WorkerStream", () -> {
            java.util.concurrent.LinkedBlockingQueue<Object> answers = new java.util.concurrent.LinkedBlockingQueue<>();
            io.grpc.stub.StreamObserver<io.hoist.proto.v1.WorkerStreamRequest> stream =
                    io.hoist.proto.v1.WorkerServiceGrpc.newStub(channel).workerStream(into(answers));
            String worker = rnd.nextBoolean() ? worker() : anyWorkerId();
            io.hoist.proto.v1.WorkerStreamRequest.Builder first = io.hoist.proto.v1.WorkerStreamRequest.newBuilder()
                    .setWorkerId(worker == null ? str() : worker).setCredits(streamCredits());
            for (int i = smallCount(); i > 0; i--) {
                first.addQueues(queueName());
            }
            stream.onNext(first.build());
            List<LeasedJob> pushed = new ArrayList<>();
            int messages = rnd.nextInt(4);
            for (int m = 0; m < messages; m++) {
                drainPushed(answers, pushed);
                io.hoist.proto.v1.WorkerStreamRequest.Builder next = io.hoist.proto.v1.WorkerStreamRequest.newBuilder()
                        .setRequestId(rnd.nextInt(3)).setCredits(streamCredits());
                for (int i = rnd.nextInt(4); i > 0; i--) {
                    LeasedJob lj = !pushed.isEmpty() && rnd.nextBoolean() ? pushed.remove(0) : held.isEmpty() ? null : pick(held);
                    next.addAcks(lj == null ? JobAck.newBuilder().setJobId(jobId()).setLeaseToken(token())
                            : JobAck.newBuilder().setJobId(lj.getJob().getId()).setLeaseToken(rnd.nextInt(4) == 0 ? token() : lj.getLeaseToken()));
                }
                stream.onNext(next.build());
            }
            stream.onCompleted();
            while (true) {
                Object a = answers.poll(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
                if (a == null) {
                    throw Status.DEADLINE_EXCEEDED.withDescription("stream not ended").asRuntimeException();
                } else if (a instanceof Throwable t) {
                    throw Status.fromThrowable(t).asRuntimeException();
                } else if (a == Status.OK) {
                    return null;
                } else if (a instanceof io.hoist.proto.v1.WorkerStreamResponse r && r.hasAcked()) {
                    Status.Code code = r.getAcked().hasError()
                            ? Status.fromCodeValue(r.getAcked().getError().getCode()).getCode() : Status.Code.OK;
                    histogram.computeIfAbsent("WorkerStream/acks", k -> new TreeMap<>()).merge(code.name(), 1, Integer::sum);
                    if (!API_CODES.contains(code)) {
                        failures.add("#" + sent + " WorkerStream acks -> " + r.getAcked().getError());
                    }
                }
            }
        });
    }

    /** A stream's answers in order: each response, then the Throwable it failed with or {@link Status#OK}. */
    private static <T> io.grpc.stub.StreamObserver<T> into(java.util.concurrent.LinkedBlockingQueue<Object> answers) {
        return new io.grpc.stub.StreamObserver<>() {
            @Override
            public void onNext(T r) {
                answers.add(r);
            }

            @Override
            public void onError(Throwable t) {
                answers.add(t);
            }

            @Override
            public void onCompleted() {
                answers.add(Status.OK);
            }
        };
    }

    private int streamCredits() {
        return switch (rnd.nextInt(10)) {
            case 0 -> int32();
            case 1 -> 1_000;
            case 2 -> 1_001;
            default -> rnd.nextInt(5);
        };
    }

    /** Takes the jobs pushed so far (without waiting), leaving other answers for the end. */
    private static void drainPushed(java.util.concurrent.LinkedBlockingQueue<Object> answers, List<LeasedJob> pushed) {
        for (Object a : answers.toArray()) {
            if (a instanceof io.hoist.proto.v1.WorkerStreamResponse r && r.hasLeased() && answers.remove(a)) {
                pushed.addAll(r.getLeased().getJobsList());
            }
        }
    }

    private EnqueueRequest fuzzedEnqueue() {
        EnqueueRequest.Builder req = EnqueueRequest.newBuilder();
        int n = switch (rnd.nextInt(40)) {
            case 0 -> 0;
            case 1 -> 1_000;
            case 2 -> 1_001;
            default -> 1 + smallCount();
        };
        for (int i = 0; i < n; i++) {
            JobSpec.Builder s = n > 100 && rnd.nextInt(50) != 0 ? validSpec() : fuzzedSpec();
            if (n > 100) {
                s.setPayload(ByteString.EMPTY).clearHeaders();
            }
            req.addJobs(s);
        }
        if (rnd.nextInt(40) == 0) { // payload of exactly the limit, or one byte over it
            boolean over = rnd.nextInt(4) != 0 || bigJobs >= 5;
            if (!over) {
                bigJobs++;
            }
            req.clearJobs().addJobs(BrokerFixture.spec(BIG_QUEUE).setPayload(ByteString.copyFrom(new byte[MAX_PAYLOAD + (over ? 1 : 0)])));
        }
        return req.build();
    }

    private JobSpec.Builder validSpec() {
        JobSpec.Builder s = BrokerFixture.spec(pick(QUEUES)).setPriority(rnd.nextInt(10))
                .setPayload(ByteString.copyFrom(bytes(rnd.nextInt(64))));
        switch (rnd.nextInt(8)) {
            case 0 -> s.setDelay(BrokerFixture.millis(rnd.nextInt(1_500)));
            case 1 -> s.setRunAt(BrokerFixture.timestamp(Instant.now().plusMillis(rnd.nextInt(1_500) - 500)));
            case 2 -> s.setDelay(BrokerFixture.millis(86_400_000L * (1 + rnd.nextInt(1_000)))); // stays SCHEDULED
            default -> { }
        }
        if (rnd.nextInt(3) == 0) {
            s.setRetry(RetryPolicy.newBuilder().setMaxAttempts(1 + rnd.nextInt(3))
                    .setInitialBackoff(BrokerFixture.millis(rnd.nextInt(300))).setMultiplier(1 + rnd.nextDouble())
                    .setJitter(rnd.nextDouble()));
        }
        if (rnd.nextInt(8) == 0) {
            s.setLeaseDuration(BrokerFixture.millis(200 + rnd.nextInt(800))); // leases that expire during the run
        }
        if (rnd.nextInt(10) == 0) {
            s.setUniqueKey("k" + rnd.nextInt(50));
        }
        if (rnd.nextInt(10) == 0) {
            s.setJobId("fz-" + rnd.nextInt(500)); // duplicates of earlier enqueues
        }
        if (rnd.nextInt(4) == 0) {
            s.putHeaders("trace", Long.toHexString(rnd.nextLong()));
        }
        return s;
    }

    private JobSpec.Builder fuzzedSpec() {
        JobSpec.Builder s = rnd.nextInt(3) == 0 ? validSpec() : JobSpec.newBuilder();
        // mutate a few fields of an otherwise valid spec, or fill a blank one
        for (int m = 1 + rnd.nextInt(4); m > 0; m--) {
            switch (rnd.nextInt(13)) {
                case 0 -> s.setQueue(rnd.nextBoolean() ? queueName() : str());
                case 1 -> s.setType(str());
                case 2 -> s.setPayload(ByteString.copyFrom(bytes(rnd.nextInt(20) == 0 ? 100_000 : rnd.nextInt(200))));
                case 3 -> s.putAllHeaders(map());
                case 4 -> s.setPriority(int32());
                case 5 -> s.setRunAt(timestamp());
                case 6 -> s.setDelay(duration());
                case 7 -> s.setRetry(retryPolicy());
                case 8 -> s.setLeaseDuration(duration());
                case 9 -> s.setTimeout(duration());
                case 10 -> s.setUniqueKey(rnd.nextBoolean() ? "k" + rnd.nextInt(50) : str());
                case 11 -> s.setUniqueFor(duration());
                default -> s.setJobId(rnd.nextBoolean() ? "fz-" + rnd.nextInt(500) : str());
            }
        }
        return s;
    }

    private void fuzzedLease() {
        String worker = rnd.nextBoolean() ? worker() : anyWorkerId();
        LeaseRequest.Builder req = LeaseRequest.newBuilder().setWorkerId(worker == null ? str() : worker)
                .setMaxJobs(rnd.nextInt(3) == 0 ? int32() : rnd.nextInt(1_002));
        for (int i = smallCount(); i > 0; i--) {
            req.addQueues(queueName());
        }
        long deadlineMillis = CALL_DEADLINE.toMillis();
        boolean parks = false;
        switch (rnd.nextInt(6)) {
            case 0 -> { }
            case 1 -> req.setWait(BrokerFixture.millis(rnd.nextInt(100)));
            case 2, 3 -> req.setWait(invalidDuration());
            case 4 -> { // an endless wait the client gives up on: the broker must unpark it
                req.setWait(Duration.newBuilder().setSeconds(rnd.nextBoolean() ? 3_600 : Long.MAX_VALUE / 2 / 1_000_000_000L));
                deadlineMillis = 100 + rnd.nextInt(200);
                parks = true;
            }
            default -> req.setWait(duration());
        }
        if (!parks && req.hasWait()) {
            long millis;
            try {
                millis = RequestValidator.durationMillis(req.getWait(), "wait");
            } catch (InvalidFieldException e) {
                millis = 0;
            }
            if (millis > 100) { // a valid long poll: keep the run short, the client gives up
                deadlineMillis = 100 + rnd.nextInt(200);
                parks = true;
            }
        }
        LeaseRequest built = req.build();
        long d = deadlineMillis;
        LeaseResponse resp = call(parks ? "Lease/abandoned-long-poll" : "Lease", () -> WorkerServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(d, TimeUnit.MILLISECONDS).lease(built), parks);
        if (resp != null) {
            held.addAll(resp.getJobsList());
        }
    }

    private void fuzzedUpdateQueue() {
        String name = rnd.nextInt(3) == 0 ? pick(QUEUES) : queueName();
        QueueConfig.Builder c = QueueConfig.newBuilder();
        for (int m = rnd.nextInt(5); m > 0; m--) {
            switch (rnd.nextInt(7)) {
                // a paused queue or a small limit on the traffic's queues lasts until the next update
                case 0 -> c.setPaused(rnd.nextInt(4) == 0);
                case 1 -> c.setRateLimit(dbl());
                case 2 -> c.setMaxInFlight(int32());
                case 3 -> c.setMaxDepth(rnd.nextBoolean() ? rnd.nextLong() : rnd.nextInt(3) - 1 + (rnd.nextBoolean() ? Long.MAX_VALUE - 1 : 0));
                case 4 -> c.setRetry(retryPolicy());
                case 5 -> c.setLeaseDuration(duration());
                default -> c.setTimeout(duration());
            }
        }
        UpdateQueueRequest.Builder req = UpdateQueueRequest.newBuilder().setName(name).setConfig(c);
        if (rnd.nextBoolean()) {
            FieldMask.Builder mask = FieldMask.newBuilder();
            List<String> paths = List.of("paused", "rate_limit", "max_in_flight", "max_depth", "retry", "retry.max_attempts",
                    "retry.initial_backoff", "retry.max_backoff", "retry.multiplier", "retry.jitter", "lease_duration",
                    "timeout", "retry.", "", "*", "config.paused", "retry.max_attempts.x", "PAUSED");
            for (int i = smallCount(); i > 0; i--) {
                mask.addPaths(rnd.nextInt(8) == 0 ? str() : pick(paths));
            }
            req.setUpdateMask(mask);
        }
        UpdateQueueRequest built = req.build();
        call("UpdateQueue", () -> admin().updateQueue(built));
        if (rnd.nextInt(3) == 0) { // undo limits on the traffic's queues now and then, so that jobs keep flowing
            call("UpdateQueue/reset", () -> admin().updateQueue(UpdateQueueRequest.newBuilder().setName(pick(QUEUES))
                    .setUpdateMask(FieldMask.newBuilder().addAllPaths(List.of("paused", "rate_limit", "max_in_flight", "max_depth")))
                    .build()));
        }
    }

    // ------------------------------------------------------------------ raw bytes

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    /** Every unary method but CreateCheckpoint (raw bytes could name a real directory to write to). */
    private static final List<MethodDescriptor<byte[], byte[]>> RAW_METHODS = rawMethods();

    private static List<MethodDescriptor<byte[], byte[]>> rawMethods() {
        List<MethodDescriptor<byte[], byte[]>> out = new ArrayList<>();
        for (var service : List.of(JobServiceGrpc.getServiceDescriptor(), WorkerServiceGrpc.getServiceDescriptor(),
                AdminServiceGrpc.getServiceDescriptor())) {
            for (MethodDescriptor<?, ?> m : service.getMethods()) {
                if (!m.getFullMethodName().endsWith("/CreateCheckpoint")) {
                    out.add(MethodDescriptor.newBuilder(BYTES, BYTES).setType(MethodDescriptor.MethodType.UNARY)
                            .setFullMethodName(m.getFullMethodName()).build());
                }
            }
        }
        return List.copyOf(out);
    }

    private void rawBytes() {
        MethodDescriptor<byte[], byte[]> method = pick(RAW_METHODS);
        byte[] body = switch (rnd.nextInt(6)) {
            case 0 -> new byte[0];
            case 1 -> bytes(rnd.nextInt(rnd.nextInt(20) == 0 ? 8_192 : 32));
            case 2 -> mutate(sampleMessage().toByteArray());
            case 3 -> truncate(sampleMessage().toByteArray());
            case 4 -> invalidUtf8String(); // field 1 is a string in most requests
            default -> hugeLength();
        };
        String name = method.getBareMethodName() + "/raw-bytes";
        call(name, () -> ClientCalls.blockingUnaryCall(channel, method,
                CallOptions.DEFAULT.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS), body), false, true);
    }

    private Message sampleMessage() {
        return switch (rnd.nextInt(5)) {
            case 0 -> EnqueueRequest.newBuilder().addJobs(validSpec()).addJobs(validSpec()).build();
            case 1 -> LeaseRequest.newBuilder().setWorkerId("w").addQueues("fz-a").setMaxJobs(3).setWait(BrokerFixture.millis(10)).build();
            case 2 -> AckRequest.newBuilder().setWorkerId("w").addAcks(JobAck.newBuilder().setJobId(jobId()).setLeaseToken("t")).build();
            case 3 -> UpdateQueueRequest.newBuilder().setName("fz-raw").setConfig(QueueConfig.newBuilder().setPaused(false)
                    .setRetry(RetryPolicy.newBuilder().setMultiplier(2))).build();
            default -> ListJobsRequest.newBuilder().setQueue("fz-a").setPageSize(2).build();
        };
    }

    private byte[] mutate(byte[] b) {
        if (b.length == 0) {
            return b;
        }
        for (int i = 1 + rnd.nextInt(4); i > 0; i--) {
            b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
        }
        return b;
    }

    private byte[] truncate(byte[] b) {
        return java.util.Arrays.copyOf(b, rnd.nextInt(Math.max(1, b.length)));
    }

    private byte[] invalidUtf8String() {
        byte[] junk = {(byte) 0xff, (byte) 0xfe, (byte) 0xc0, (byte) 0x80, (byte) 0xed, (byte) 0xa0, (byte) 0x80};
        byte[] b = new byte[2 + junk.length];
        b[0] = 0x0a; // field 1, length-delimited
        b[1] = (byte) junk.length;
        System.arraycopy(junk, 0, b, 2, junk.length);
        return b;
    }

    private byte[] hugeLength() {
        // field 1 claims a length far beyond the message; or a varint that never ends
        return rnd.nextBoolean()
                ? new byte[]{0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 1, 2, 3}
                : new byte[]{0x08, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    }

    // ------------------------------------------------------------------ calling and judging

    private <T> T call(String name, Callable<T> rpc) {
        return call(name, rpc, false, false);
    }

    private <T> T call(String name, Callable<T> rpc, boolean abandoned) {
        return call(name, rpc, abandoned, false);
    }

    /**
     * @param abandoned a long poll with a short client deadline: DEADLINE_EXCEEDED is the client's own doing
     * @param raw       raw bytes: the transport's answer to unparsable bytes is allowed too
     */
    private <T> T call(String name, Callable<T> rpc, boolean abandoned, boolean raw) {
        sent++;
        if (!name.equals("Lease/valid")) {
            lastRequest = "";
        }
        Status.Code code;
        T result = null;
        String detail = "";
        boolean unparsable = false;
        try {
            result = rpc.call();
            code = Status.Code.OK;
        } catch (StatusRuntimeException e) {
            code = e.getStatus().getCode();
            detail = String.valueOf(e.getStatus());
            unparsable = raw && transportRefusedUnparsable(e.getStatus());
        } catch (Exception e) {
            throw new AssertionError(name + ": not a gRPC failure", e);
        }
        histogram.computeIfAbsent(name, k -> new TreeMap<>()).merge(unparsable ? "UNKNOWN(unparsable)" : code.name(), 1, Integer::sum);
        boolean allowed = API_CODES.contains(code)
                || unparsable
                || (abandoned && code == Status.Code.DEADLINE_EXCEEDED);
        if (!allowed) {
            failures.add("#" + sent + " " + name + " -> " + detail + " request: " + lastRequest);
        }
        return result;
    }

    private void printHistogram() {
        Map<String, Integer> total = new TreeMap<>();
        StringBuilder sb = new StringBuilder("FuzzTest: status codes per call\n");
        histogram.forEach((name, codes) -> {
            sb.append(String.format("  %-36s %s%n", name, codes));
            codes.forEach((c, n) -> total.merge(c, n, Integer::sum));
        });
        sb.append(String.format("  %-36s %s%n", "TOTAL", total));
        System.out.print(sb);
    }

    // ------------------------------------------------------------------ afterwards

    private void assertHealthy() throws Exception {
        HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance());
        assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.httpPort() + "/readyz")).timeout(java.time.Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(ready.statusCode()).as("/readyz: %s", ready.body()).isEqualTo(200);
    }

    /** ready, scheduled, leased, dead per queue, from ListQueues. */
    private Map<String, long[]> queueCounts() {
        Map<String, long[]> out = new TreeMap<>();
        for (QueueInfo q : admin().listQueues(ListQueuesRequest.getDefaultInstance()).getQueuesList()) {
            out.put(q.getName(), new long[]{q.getReady(), q.getScheduled(), q.getLeased(), q.getDead()});
        }
        return out;
    }

    private static String render(Map<String, long[]> counts) {
        StringBuilder sb = new StringBuilder();
        counts.forEach((q, c) -> sb.append(q).append(" ready=").append(c[0]).append(" scheduled=").append(c[1])
                .append(" leased=").append(c[2]).append(" dead=").append(c[3]).append('\n'));
        return sb.toString();
    }

    /** Every job of these queues, paging through ListJobs with all states; each id exactly once. */
    private Map<String, JobState> allJobs(Set<String> queues) {
        Map<String, JobState> out = new TreeMap<>();
        for (String queue : queues) {
            String token = "";
            do {
                ListJobsResponse page = admin().listJobs(ListJobsRequest.newBuilder().setQueue(queue)
                        .setPageSize(queue.equals(BIG_QUEUE) ? 2 : 1_000).setPageToken(token).build());
                for (Job j : page.getJobsList()) {
                    assertThat(j.getSpec().getQueue()).as("queue of job %s", j.getId()).isEqualTo(queue);
                    JobState before = out.put(j.getId(), j.getState());
                    assertThat(before).as("job %s listed twice", j.getId()).isNull();
                }
                token = page.getNextPageToken();
            } while (!token.isEmpty());
        }
        return out;
    }

    /** ListJobs' states per queue, in ListQueues' order of counts. */
    private Map<String, long[]> listedCounts(Set<String> queues, Map<String, Job> leased) {
        Map<String, long[]> out = new TreeMap<>();
        for (String queue : queues) {
            long[] c = new long[4];
            String token = "";
            Set<String> seen = new HashSet<>();
            do {
                ListJobsResponse page = admin().listJobs(ListJobsRequest.newBuilder().setQueue(queue)
                        .setPageSize(queue.equals(BIG_QUEUE) ? 2 : 1_000).setPageToken(token).build());
                for (Job j : page.getJobsList()) {
                    assertThat(seen.add(j.getId())).as("job %s listed twice in %s", j.getId(), queue).isTrue();
                    switch (j.getState()) {
                        case JOB_STATE_READY -> c[0]++;
                        case JOB_STATE_SCHEDULED -> c[1]++;
                        case JOB_STATE_LEASED -> {
                            c[2]++;
                            leased.put(j.getId(), j);
                        }
                        case JOB_STATE_DEAD -> c[3]++;
                        case JOB_STATE_SUCCEEDED, JOB_STATE_CANCELED -> { }
                        default -> throw new AssertionError("job " + j.getId() + " in state " + j.getState());
                    }
                }
                token = page.getNextPageToken();
            } while (!token.isEmpty());
            out.put(queue, c);
        }
        return out;
    }

    /**
     * Jobs still move by themselves after the run (short delays and backoffs, expiring leases and
     * sessions), so the comparison is made on a snapshot that did not change while it was taken:
     * ListQueues before and after the ListJobs walk equal, and equal to what the walk counted.
     */
    private Map<String, long[]> awaitConsistentStore() throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String last = "";
        while (true) {
            Map<String, long[]> before = queueCounts();
            Map<String, Job> leased = new HashMap<>();
            Map<String, long[]> listed = listedCounts(before.keySet(), leased);
            Set<String> live = new HashSet<>();
            for (WorkerInfo w : admin().listWorkers(ListWorkersRequest.getDefaultInstance()).getWorkersList()) {
                live.add(w.getWorkerId());
            }
            Map<String, long[]> after = queueCounts();
            List<String> orphans = leased.values().stream().filter(j -> !live.contains(j.getWorkerId()))
                    .map(j -> j.getId() + " held by " + j.getWorkerId()).toList();
            if (render(before).equals(render(after)) && render(before).equals(render(listed)) && orphans.isEmpty()) {
                return before;
            }
            last = "ListQueues:\n" + render(before) + "ListJobs:\n" + render(listed) + "ListQueues after:\n"
                    + render(after) + "LEASED jobs of workers not in ListWorkers: " + orphans;
            if (System.nanoTime() > until) {
                throw new AssertionError("the store's counts never matched its listings (seed " + seed + ")\n" + last);
            }
            Thread.sleep(250);
        }
    }

    // ------------------------------------------------------------------ generators

    private <T> T pick(List<T> list) {
        return list.get(rnd.nextInt(list.size()));
    }

    private static <T> boolean remember(List<T> list, T item, int cap) {
        list.add(item);
        if (list.size() > cap) {
            list.remove(0);
        }
        return true;
    }

    private LeasedJob takeHeld() {
        return held.isEmpty() ? null : held.remove(rnd.nextInt(held.size()));
    }

    private String worker() {
        return workerIds.isEmpty() ? null : pick(workerIds);
    }

    private String anyWorkerId() {
        return switch (rnd.nextInt(4)) {
            case 0 -> workerIds.isEmpty() ? str() : pick(workerIds);
            case 1 -> deregistered.isEmpty() ? "" : pick(deregistered);
            default -> str();
        };
    }

    private String jobId() {
        return switch (rnd.nextInt(5)) {
            case 0, 1 -> jobIds.isEmpty() ? str() : pick(jobIds);
            case 2 -> "fz-" + rnd.nextInt(500);
            case 3 -> "01ARZ3NDEKTSV4RRFFQ69G5FAV"; // a ULID nobody made
            default -> str();
        };
    }

    private String token() {
        return switch (rnd.nextInt(4)) {
            case 0 -> finished.isEmpty() ? str() : pick(finished).getLeaseToken();
            case 1 -> held.isEmpty() ? str() : pick(held).getLeaseToken();
            default -> str();
        };
    }

    private String queueName() {
        return switch (rnd.nextInt(4)) {
            case 0 -> pick(QUEUES);
            case 1 -> "fz-unknown-" + rnd.nextInt(20);
            default -> str();
        };
    }

    private int smallCount() {
        return rnd.nextInt(10) == 0 ? rnd.nextInt(200) : rnd.nextInt(4);
    }

    private Map<String, String> map() {
        Map<String, String> m = new HashMap<>();
        for (int i = smallCount(); i > 0; i--) {
            m.put(str(), str());
        }
        if (rnd.nextInt(400) == 0) {
            m.put("big", "v".repeat(MAX_PAYLOAD)); // headers count against the payload limit
        }
        return m;
    }

    private static final String[] ODD = {"", " ", ".", "..", "-", "_", ":", "/", "../../etc/passwd", "a:b/c", "\0",
            "\n", "\r\n", "\t", "\u007f", "\u0085", "\u200b", "\u202e", "\ufeff", "\uffff",
            "\ud83d\ude00", "é", "e\u0301", "日本語", "%00", "%s%n", "${x}", "' OR 1=1 --", "null", "NaN",
            "x".repeat(127), "x".repeat(128), "x".repeat(129), "é".repeat(128)};

    private String str() {
        return switch (rnd.nextInt(10)) {
            case 0, 1 -> ODD[rnd.nextInt(ODD.length)];
            case 2 -> "fz-" + rnd.nextInt(1_000);
            case 3 -> "x".repeat(rnd.nextInt(20) == 0 ? 100_000 : 1 + rnd.nextInt(2_000));
            case 4, 5 -> {
                StringBuilder sb = new StringBuilder();
                for (int i = rnd.nextInt(40); i > 0; i--) {
                    int cp = switch (rnd.nextInt(4)) {
                        case 0 -> rnd.nextInt(0x20); // control characters
                        case 1 -> 0x20 + rnd.nextInt(0x5f);
                        case 2 -> rnd.nextInt(0xd800); // BMP below the surrogates
                        default -> 0x10000 + rnd.nextInt(0x100000 - 0x10000 + 0xffff); // supplementary planes
                    };
                    sb.appendCodePoint(Math.min(cp, Character.MAX_CODE_POINT));
                }
                yield sb.toString();
            }
            case 6 -> {
                // NULs and surrogate pairs around valid names (lone surrogates cannot be encoded: protobuf-java
                // refuses them on the client, so invalid UTF-8 reaches the broker only as raw bytes)
                yield (rnd.nextBoolean() ? "\0" : "\ud83d\ude00") + "fz-a" + (rnd.nextBoolean() ? "\0" : "\u0000\u0001");
            }
            default -> {
                StringBuilder sb = new StringBuilder();
                String alphabet = "abcXYZ019._-:/";
                for (int i = rnd.nextInt(140); i >= 0; i--) {
                    sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
                }
                yield sb.toString();
            }
        };
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static final int[] INTS = {Integer.MIN_VALUE, Integer.MIN_VALUE + 1, -1, 0, 1, 9, 10, 999, 1_000, 1_001,
            Integer.MAX_VALUE - 1, Integer.MAX_VALUE};

    private int int32() {
        return rnd.nextInt(3) == 0 ? rnd.nextInt() : INTS[rnd.nextInt(INTS.length)];
    }

    private static final double[] DOUBLES = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 0.0,
            Double.MIN_VALUE, -Double.MIN_VALUE, 0.5, 1.0, 1.0 - 1e-16, 2.0, 1_000.0, 1_000.0000001, 1e9, 1e9 + 1,
            Double.MAX_VALUE, -1.0, Math.nextUp(1.0), Math.nextDown(0.0)};

    private double dbl() {
        return rnd.nextInt(4) == 0 ? (rnd.nextDouble() - 0.5) * Math.pow(10, rnd.nextInt(40) - 20) : DOUBLES[rnd.nextInt(DOUBLES.length)];
    }

    private static final long[] SECONDS = {Long.MIN_VALUE, -315_576_000_001L, -315_576_000_000L, -1, 0, 1,
            315_576_000_000L, 315_576_000_001L, Long.MAX_VALUE, Long.MAX_VALUE / 1000, Long.MAX_VALUE / 1000 + 1};
    private static final int[] NANOS = {Integer.MIN_VALUE, -1_000_000_000, -999_999_999, -1, 0, 1, 999_999, 999_999_999,
            1_000_000_000, Integer.MAX_VALUE};

    /** Valid durations are tiny (the job moves during the run) or a day and more (it does not move again). */
    private Duration duration() {
        return switch (rnd.nextInt(4)) {
            case 0 -> invalidDuration();
            case 1 -> BrokerFixture.millis(rnd.nextInt(1_500));
            case 2 -> BrokerFixture.millis(86_400_000L + (rnd.nextLong() >>> 30));
            default -> Duration.newBuilder().setSeconds(SECONDS[rnd.nextInt(SECONDS.length)]).setNanos(NANOS[rnd.nextInt(NANOS.length)]).build();
        };
    }

    private Duration invalidDuration() {
        return switch (rnd.nextInt(4)) {
            case 0 -> Duration.newBuilder().setSeconds(-1 - rnd.nextInt(1_000)).build();
            case 1 -> Duration.newBuilder().setSeconds(1).setNanos(-1).build();
            case 2 -> Duration.newBuilder().setNanos(1_000_000_000 + rnd.nextInt(1_000)).build();
            default -> Duration.newBuilder().setSeconds(rnd.nextBoolean() ? Long.MAX_VALUE : Long.MIN_VALUE).build();
        };
    }

    private static final long[] TS_SECONDS = {Long.MIN_VALUE, -62_135_596_801L, -62_135_596_800L, -1, 0,
            253_402_300_799L, 253_402_300_800L, Long.MAX_VALUE};

    private Timestamp timestamp() {
        return switch (rnd.nextInt(3)) {
            case 0 -> BrokerFixture.timestamp(Instant.now().plusMillis(rnd.nextInt(1_500) - 750));
            case 1 -> Timestamp.newBuilder().setSeconds(TS_SECONDS[rnd.nextInt(TS_SECONDS.length)]).build();
            default -> Timestamp.newBuilder().setSeconds(TS_SECONDS[rnd.nextInt(TS_SECONDS.length)])
                    .setNanos(NANOS[rnd.nextInt(NANOS.length)]).build();
        };
    }

    private RetryPolicy retryPolicy() {
        RetryPolicy.Builder r = RetryPolicy.newBuilder();
        if (rnd.nextBoolean()) {
            r.setMaxAttempts(rnd.nextBoolean() ? int32() : 1 + rnd.nextInt(3));
        }
        if (rnd.nextBoolean()) {
            r.setInitialBackoff(duration());
        }
        if (rnd.nextBoolean()) {
            r.setMaxBackoff(duration());
        }
        if (rnd.nextBoolean()) {
            r.setMultiplier(dbl());
        }
        if (rnd.nextBoolean()) {
            r.setJitter(dbl());
        }
        return r.build();
    }
}
