package io.hoist.broker.cli;

import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.hoist.broker.BrokerServer;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.JobAck;
import io.hoist.proto.v1.JobServiceGrpc;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.ListJobsResponse;
import io.hoist.proto.v1.ListQueuesResponse;
import io.hoist.proto.v1.NackRequest;
import io.hoist.proto.v1.QueueInfo;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.WorkerServiceGrpc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The operator commands of {@code hoist} against a real broker on loopback. */
class CliTest {
    @TempDir
    Path dir;
    BrokerServer server;
    ManagedChannel channel;

    record Run(int exit, String out, String err) {
    }

    @BeforeEach
    void start() throws Exception {
        server = new BrokerServer(BrokerConfig.defaults(dir.resolve("data")).withPorts(0, 0), Clock.systemUTC()).start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.close();
    }

    Run hoist(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        if (!all.get(0).equals("serve")) {
            all.add("--broker=127.0.0.1:" + server.grpcPort());
        }
        return hoistWithEnv(Map.of(), all.toArray(String[]::new));
    }

    static Run hoistWithEnv(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = HoistCommand.commandLine(List.of(args), env);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    QueueInfo queueFromCli(String name) throws Exception {
        Run r = hoist("queues", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        ListQueuesResponse.Builder b = ListQueuesResponse.newBuilder();
        JsonFormat.parser().merge(r.out(), b);
        return b.getQueuesList().stream().filter(q -> q.getName().equals(name)).findFirst().orElseThrow();
    }

    double metric(String sample) throws Exception {
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return body.lines().filter(l -> l.startsWith(sample + " ")).mapToDouble(l -> Double.parseDouble(l.substring(sample.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no sample " + sample));
    }

    @Test
    void deadLetterRoundTrip_listRequeueAck_countsMatchInQueuesAndMetrics() throws Exception {
        var jobs = JobServiceGrpc.newBlockingStub(channel);
        var workers = WorkerServiceGrpc.newBlockingStub(channel);
        EnqueueRequest.Builder batch = EnqueueRequest.newBuilder();
        for (int i = 0; i < 3; i++) {
            batch.addJobs(JobSpec.newBuilder().setQueue("mail").setType("send"));
        }
        jobs.enqueue(batch.build());
        String w = workers.register(RegisterRequest.newBuilder().addQueues("mail").build()).getWorkerId();
        for (LeasedJob lj : workers.lease(LeaseRequest.newBuilder().setWorkerId(w).setMaxJobs(3).build()).getJobsList()) {
            workers.nack(NackRequest.newBuilder().setWorkerId(w).setJobId(lj.getJob().getId())
                    .setLeaseToken(lj.getLeaseToken()).setError("smtp said no").setNonRetryable(true).build());
        }
        assertThat(queueFromCli("mail").getDead()).isEqualTo(3);
        assertThat(metric("hoist_queue_jobs{queue=\"mail\",state=\"dead\"}")).isEqualTo(3);
        assertThat(metric("hoist_jobs_dead_total{queue=\"mail\"}")).isEqualTo(3);

        Run table = hoist("dlq", "list", "--queue", "mail");
        assertThat(table.exit()).isZero();
        assertThat(table.out()).contains("NON_RETRYABLE").contains("smtp said no");
        Run listed = hoist("dlq", "list", "--queue", "mail", "--json");
        ListJobsResponse.Builder dead = ListJobsResponse.newBuilder();
        JsonFormat.parser().merge(listed.out(), dead);
        assertThat(dead.getJobsCount()).isEqualTo(3);

        Run refused = hoist("dlq", "requeue", "--queue", "mail");
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).contains("--yes");
        Run requeued = hoist("dlq", "requeue", "--queue", "mail", "--yes");
        assertThat(requeued.exit()).isZero();
        assertThat(requeued.out()).contains("requeued 3 jobs");

        List<JobAck> acks = new ArrayList<>();
        for (LeasedJob lj : workers.lease(LeaseRequest.newBuilder().setWorkerId(w).setMaxJobs(3).build()).getJobsList()) {
            assertThat(lj.getJob().getAttempt()).isEqualTo(1);
            acks.add(JobAck.newBuilder().setJobId(lj.getJob().getId()).setLeaseToken(lj.getLeaseToken()).build());
        }
        workers.ack(AckRequest.newBuilder().setWorkerId(w).addAllAcks(acks).build());

        QueueInfo q = queueFromCli("mail");
        assertThat(q.getDead()).isZero();
        assertThat(q.getReady()).isZero();
        assertThat(q.getAckedTotal()).isEqualTo(3);
        assertThat(metric("hoist_queue_jobs{queue=\"mail\",state=\"dead\"}")).isZero();
        assertThat(metric("hoist_jobs_acked_total{queue=\"mail\"}")).isEqualTo(3);
        assertThat(hoist("queues").out()).contains("mail");
    }

    @Test
    void queuePauseConfigAndPurge() {
        Run paused = hoist("queue", "pause", "reports");
        assertThat(paused.exit()).as(paused.err()).isZero();
        assertThat(paused.out()).contains("paused");
        Run config = hoist("queue", "config", "reports", "--rate-limit", "20", "--max-in-flight", "4", "--lease-duration", "45s");
        assertThat(config.exit()).as(config.err()).isZero();
        assertThat(config.out()).contains("rate=20.0/s").contains("in-flight<=4");
        assertThat(hoist("queue", "resume", "reports").out()).contains("running");
        assertThat(hoist("queue", "purge", "reports").exit()).isEqualTo(2);
        assertThat(hoist("queue", "purge", "reports", "--yes").out()).contains("purged 0 jobs");
        assertThat(hoist("queue", "purge", "nothing-here", "--yes").exit()).isEqualTo(1);
    }

    @Test
    void workersAndStats() {
        WorkerServiceGrpc.newBlockingStub(channel).register(RegisterRequest.newBuilder().setName("box-1").addQueues("q").build());
        assertThat(hoist("workers").out()).contains("box-1");
        Run stats = hoist("stats", "--count", "2", "--interval", "50ms");
        assertThat(stats.exit()).as(stats.err()).isZero();
        assertThat(stats.out()).contains("workers: 1").contains("ENQ/S");
    }

    @Test
    void backup_writesACheckpointThatABrokerCanStartFrom() throws Exception {
        JobServiceGrpc.newBlockingStub(channel).enqueue(EnqueueRequest.newBuilder()
                .addJobs(JobSpec.newBuilder().setQueue("keep").setType("t").setJobId("precious")).build());
        Path copy = dir.resolve("backup-1");
        Run r = hoist("backup", "--to", copy.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("checkpoint written to " + copy);
        assertThat(hoist("backup", "--to", copy.toString()).err()).contains("already exists");
        assertThat(hoist("backup", "--to", "relative/dir").err()).contains("must be absolute");

        try (BrokerServer restored = new BrokerServer(BrokerConfig.defaults(copy).withPorts(0, 0), Clock.systemUTC()).start()) {
            ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", restored.grpcPort()).usePlaintext().build();
            try {
                var job = JobServiceGrpc.newBlockingStub(c).getJob(io.hoist.proto.v1.GetJobRequest.newBuilder().setJobId("precious").build());
                assertThat(job.getSpec().getQueue()).isEqualTo("keep");
            } finally {
                c.shutdownNow();
            }
        }
    }

    @Test
    void enqueueJobAndWork_runAShellCommandPerJob() throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        Run good = hoist("enqueue", "shell", "copy", "{\"n\":1}");
        assertThat(good.exit()).as(good.err()).isZero();
        String goodId = good.out().strip();
        Run bad = hoist("enqueue", "shell", "explode", "--max-attempts", "1", "--json");
        assertThat(bad.exit()).as(bad.err()).isZero();
        io.hoist.proto.v1.Job.Builder badJob = io.hoist.proto.v1.Job.newBuilder();
        JsonFormat.parser().merge(bad.out(), badJob);
        assertThat(badJob.getSpec().getType()).isEqualTo("explode");

        String script = "if [ \"$HOIST_JOB_TYPE\" = explode ]; then echo boom >&2; exit 3; fi; "
                + "cat > " + out + "/$HOIST_JOB_ID.out";
        Run work = hoist("work", "--queue", "shell", "--exec", script, "--max-jobs", "2", "--grace-period", "5s");
        assertThat(work.exit()).as(work.err()).isZero();

        assertThat(Files.readString(out.resolve(goodId + ".out"))).isEqualTo("{\"n\":1}");
        Run shown = hoist("job", "get", goodId);
        assertThat(shown.out()).contains("state:       SUCCEEDED");
        Run dead = hoist("job", "get", badJob.getId(), "--json");
        io.hoist.proto.v1.Job.Builder deadJob = io.hoist.proto.v1.Job.newBuilder();
        JsonFormat.parser().merge(dead.out(), deadJob);
        assertThat(deadJob.getState()).isEqualTo(io.hoist.proto.v1.JobState.JOB_STATE_DEAD);
        assertThat(deadJob.getLastError()).isEqualTo("exit status 3: boom");
    }

    @Test
    void jobCancel_andUnknownJob() {
        String id = hoist("enqueue", "later", "t", "--delay", "1h").out().strip();
        assertThat(hoist("job", "cancel", id).out()).contains("canceled");
        Run again = hoist("job", "cancel", id);
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err()).contains("FAILED_PRECONDITION");
        assertThat(hoist("job", "get", "no-such-job").err()).contains("NOT_FOUND");
    }

    @Test
    void unreachableBroker_saysWhatToDo() {
        Run r = hoistWithEnv(Map.of(), "queues", "--broker=127.0.0.1:1");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("cannot reach the broker").contains("HOIST_BROKER");
    }

    @Test
    void serveSettings_comeFromFlagThenVariableThenFileThenDefault() throws Exception {
        Path file = dir.resolve("hoist.yaml");
        Files.writeString(file, "grpc-port: 9001\nhttp-port: 9002\nretention: 10m\nfsync: interval\n");
        Run r = hoistWithEnv(Map.of("HOIST_HTTP_PORT", "9102"), "serve", "--config", file.toString(),
                "--fsync", "never", "--print-config");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("grpc-port: 9001")   // file
                .contains("http-port: 9102")               // variable beats file
                .contains("fsync: never")                  // flag beats file
                .contains("retention: 10m")                // file
                .contains("session-timeout: 10s");         // default
    }

    @Test
    void minFreeDisk_isASizeWithABinaryUnit() throws Exception {
        Run fromEnv = hoistWithEnv(Map.of("HOIST_MIN_FREE_DISK", "1GiB"), "serve", "--print-config");
        assertThat(fromEnv.exit()).as(fromEnv.err()).isZero();
        assertThat(fromEnv.out()).contains("min-free-disk: 1GiB");
        assertThat(hoistWithEnv(Map.of(), "serve", "--print-config").out()).contains("min-free-disk: 256MiB");
        Run bad = hoistWithEnv(Map.of(), "serve", "--min-free-disk", "10MB", "--print-config");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("'10MB' is not a size").contains("64MiB");
    }

    @Test
    void configFileWithAnUnknownKey_isRefused() throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "grpc-prot: 9001\n");
        Run r = hoistWithEnv(Map.of(), "serve", "--config", file.toString(), "--print-config");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("unknown setting 'grpc-prot'");
    }
}
