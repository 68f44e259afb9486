package io.hoist.system;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.hoist.proto.v1.AdminServiceGrpc;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.EnqueuedJob;
import io.hoist.proto.v1.GetJobRequest;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobServiceGrpc;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.ListJobsRequest;
import io.hoist.proto.v1.ListJobsResponse;
import io.hoist.proto.v1.ListQueuesRequest;
import io.hoist.proto.v1.ListWorkersRequest;
import io.hoist.proto.v1.QueueInfo;
import io.hoist.proto.v1.WorkerInfo;
import io.hoist.proto.v1.WorkerServiceGrpc;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One broker process (the packaged jar, {@code -Dhoist.jar}) and {@link ScriptedWorker} JVMs, all
 * on loopback, with their files in the test's temp dir. Register it with
 * {@code @RegisterExtension}: after each test it kills every process it started (by its own pid),
 * and when a test fails the failure carries the tails of the broker's and the workers' logs.
 */
final class HoistCluster implements AfterEachCallback, TestExecutionExceptionHandler {
    static final String SCRIPT = "script";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private Path dir;
    private Broker broker;
    private final List<Broker> brokers = new ArrayList<>();
    private final List<WorkerProcess> workers = new ArrayList<>();
    private ManagedChannel channel;

    /** The directory for data, logs and event files (the test's {@code @TempDir}). */
    HoistCluster in(Path dir) {
        this.dir = dir;
        return this;
    }

    Path dir() {
        return dir;
    }

    // ------------------------------------------------------------------ broker

    /** A broker process on a data dir of its own, with free ports; waits for /healthz. */
    Broker startBroker(String... flags) throws Exception {
        Path data = dir.resolve("data");
        for (int attempt = 1; ; attempt++) {
            int[] ports = freePorts();
            try {
                return startBroker(data, ports[0], ports[1], List.of(flags));
            } catch (PortTaken e) {
                if (attempt == 3) {
                    throw new AssertionError(e.getMessage());
                }
            }
        }
    }

    /** The same broker again, after it stopped: same data dir, ports and flags. */
    Broker restartBroker() throws Exception {
        assertThat(broker.process.isAlive()).as("the broker is still running").isFalse();
        try {
            return startBroker(broker.dataDir, broker.grpcPort, broker.httpPort, broker.flags);
        } catch (PortTaken e) {
            throw new AssertionError(e.getMessage());
        }
    }

    private Broker startBroker(Path data, int grpcPort, int httpPort, List<String> flags) throws Exception {
        Path jar = Path.of(System.getProperty("hoist.jar", "../broker/target/hoist.jar"));
        assertThat(jar).as("the broker jar (-Dhoist.jar; the broker module's package builds it)").isRegularFile();
        Path log = dir.resolve("broker-" + (brokers.size() + 1) + ".log");
        List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx512m", "-jar", jar.toString(), "serve",
                "--data-dir", data.toString(),
                "--grpc-port", Integer.toString(grpcPort),
                "--http-port", Integer.toString(httpPort)));
        cmd.addAll(flags);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("HOIST_"));
        Broker b = new Broker(pb.start(), data, grpcPort, httpPort, flags, log);
        brokers.add(b);
        broker = b;
        try {
            await("broker /healthz").atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> !b.process.isAlive() || b.healthy());
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("the broker did not answer /healthz in 30 s; its log ends:\n" + tail(log, 60), e);
        }
        if (!b.process.isAlive()) {
            String tail = tail(log, 60);
            if (tail.toLowerCase().contains("address already in use") || tail.toLowerCase().contains("bind")) {
                throw new PortTaken("broker could not bind its ports:\n" + tail);
            }
            throw new AssertionError("the broker exited with " + b.process.exitValue() + " at start; its log ends:\n" + tail);
        }
        if (channel != null) {
            channel.shutdownNow(); // a fresh channel: no waiting out gRPC's reconnect backoff
        }
        channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        return b;
    }

    private static final class PortTaken extends Exception {
        PortTaken(String message) {
            super(message);
        }
    }

    Broker broker() {
        return broker;
    }

    String target() {
        return "127.0.0.1:" + broker.grpcPort;
    }

    // ------------------------------------------------------------------ workers

    /** Starts a {@link ScriptedWorker} JVM; returns once it has registered with the broker. */
    WorkerProcess startWorker(String name, String queue, int concurrency, Duration grace) throws Exception {
        WorkerProcess w = launchWorker(name, queue, concurrency, grace);
        try {
            await("worker " + name + " registered").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !w.process.isAlive() || w.events().stream().anyMatch(e -> e.type().equals("REGISTERED")));
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("worker " + name + " did not register in 30 s; its output ends:\n"
                    + tail(w.out, 40), e);
        }
        assertThat(w.process.isAlive()).as("worker %s alive after start; its output ends:\n%s", name, tail(w.out, 40))
                .isTrue();
        return w;
    }

    /** Starts a {@link ScriptedWorker} JVM without waiting for it. */
    WorkerProcess launchWorker(String name, String queue, int concurrency, Duration grace) throws IOException {
        Path events = dir.resolve("worker-" + name + ".events");
        Path out = dir.resolve("worker-" + name + ".out");
        List<String> cmd = List.of(java(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                ScriptedWorker.class.getName(),
                "--target", target(), "--queue", queue, "--concurrency", Integer.toString(concurrency),
                "--name", name, "--grace-ms", Long.toString(grace.toMillis()), "--events", events.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile())).start();
        WorkerProcess w = new WorkerProcess(name, p, events, out);
        workers.add(w);
        return w;
    }

    List<WorkerProcess> workers() {
        return workers;
    }

    /** Every worker's events, by time (monotonic). */
    List<Event> allEvents() {
        return workers.stream().flatMap(w -> w.events().stream())
                .sorted((a, b) -> Long.compare(a.nanos(), b.nanos())).collect(Collectors.toList());
    }

    // ------------------------------------------------------------------ gRPC

    JobServiceGrpc.JobServiceBlockingStub jobs() {
        return JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    WorkerServiceGrpc.WorkerServiceBlockingStub workerService() {
        return WorkerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    AdminServiceGrpc.AdminServiceBlockingStub admin() {
        return AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    /** A job for {@link ScriptedWorker}: its payload is the script as JSON. */
    static JobSpec.Builder script(String queue, String json) {
        return JobSpec.newBuilder().setQueue(queue).setType(SCRIPT)
                .setPayload(com.google.protobuf.ByteString.copyFromUtf8(json));
    }

    /** Enqueues in batches of up to 1,000; answers the job ids in order. */
    List<String> enqueue(List<JobSpec> specs) {
        List<String> ids = new ArrayList<>(specs.size());
        for (int from = 0; from < specs.size(); from += 1_000) {
            List<JobSpec> batch = specs.subList(from, Math.min(specs.size(), from + 1_000));
            for (EnqueuedJob e : jobs().enqueue(EnqueueRequest.newBuilder().addAllJobs(batch).build()).getJobsList()) {
                ids.add(e.getJobId());
            }
        }
        return ids;
    }

    Job job(String id) {
        return jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }

    /** Every job of the queue (any state), by id. */
    Map<String, Job> listJobs(String queue) {
        Map<String, Job> all = new HashMap<>();
        String token = "";
        do {
            ListJobsResponse r = admin().listJobs(ListJobsRequest.newBuilder().setQueue(queue)
                    .setState(JobState.JOB_STATE_UNSPECIFIED).setPageSize(1_000).setPageToken(token).build());
            r.getJobsList().forEach(j -> all.put(j.getId(), j));
            token = r.getNextPageToken();
        } while (!token.isEmpty());
        return all;
    }

    Optional<QueueInfo> queue(String name) {
        return admin().listQueues(ListQueuesRequest.getDefaultInstance()).getQueuesList().stream()
                .filter(q -> q.getName().equals(name)).findFirst();
    }

    /** True once no job of the queue is SCHEDULED, READY or LEASED. */
    boolean drained(String queue) {
        return queue(queue).map(q -> q.getReady() + q.getScheduled() + q.getLeased() == 0).orElse(false);
    }

    List<WorkerInfo> listWorkers() {
        return admin().listWorkers(ListWorkersRequest.getDefaultInstance()).getWorkersList();
    }

    // ------------------------------------------------------------------ signals and clean-up

    static void signal(String signal, long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).as("kill -%s %d: %s", signal, pid,
                new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        List<Process> all = new ArrayList<>();
        workers.forEach(w -> all.add(w.process));
        brokers.forEach(b -> all.add(b.process));
        for (Process p : all) {
            if (p.isAlive()) {
                p.destroyForcibly(); // SIGKILL: also ends a process stopped with SIGSTOP
            }
        }
        for (Process p : all) {
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (channel != null) {
            channel.shutdownNow();
        }
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable t) throws Throwable {
        for (Broker b : brokers) {
            t.addSuppressed(new LogTail("broker log " + b.log + ", last lines:\n" + tail(b.log, 60)));
        }
        for (WorkerProcess w : workers) {
            t.addSuppressed(new LogTail("worker " + w.name + " output " + w.out + ", last lines:\n" + tail(w.out, 30)
                    + "\n--- its events " + w.events + ", last lines:\n" + tail(w.events, 20)));
        }
        throw t;
    }

    /** Carries a log's tail in a failure report. */
    static final class LogTail extends RuntimeException {
        LogTail(String message) {
            super(message, null, false, false);
        }
    }

    static String tail(Path file, int lines) {
        try {
            if (!Files.exists(file)) {
                return "(no file)";
            }
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    private static String java() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    private static int[] freePorts() throws IOException {
        try (ServerSocket a = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             ServerSocket b = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return new int[] {a.getLocalPort(), b.getLocalPort()};
        }
    }

    // ------------------------------------------------------------------ processes

    /** The broker process. */
    static final class Broker {
        final Process process;
        final Path dataDir;
        final int grpcPort;
        final int httpPort;
        final List<String> flags;
        final Path log;

        Broker(Process process, Path dataDir, int grpcPort, int httpPort, List<String> flags, Path log) {
            this.process = process;
            this.dataDir = dataDir;
            this.grpcPort = grpcPort;
            this.httpPort = httpPort;
            this.flags = flags;
            this.log = log;
        }

        boolean healthy() throws InterruptedException {
            try {
                HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/healthz"))
                        .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding());
                return r.statusCode() == 200;
            } catch (IOException e) {
                return false;
            }
        }

        /** SIGTERM, and wait for the exit. */
        int stop() throws Exception {
            signal("TERM", process.pid());
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the broker exits after SIGTERM").isTrue();
            return process.exitValue();
        }

        /** SIGKILL, and wait for the exit. */
        void kill9() throws Exception {
            signal("KILL", process.pid());
            assertThat(process.waitFor(10, TimeUnit.SECONDS)).as("the broker died of SIGKILL").isTrue();
        }
    }

    /** A {@link ScriptedWorker} JVM. */
    static final class WorkerProcess {
        final String name;
        final Process process;
        final Path events;
        final Path out;

        WorkerProcess(String name, Process process, Path events, Path out) {
            this.name = name;
            this.process = process;
            this.events = events;
            this.out = out;
        }

        long pid() {
            return process.pid();
        }

        List<Event> events() {
            return Event.read(events);
        }

        @Override
        public String toString() {
            return name + "(pid " + pid() + ")";
        }
    }

    /** One line of a worker's event log (see {@link ScriptedWorker}). */
    record Event(String type, String jobId, int attempt, String token, String worker, String session, long nanos,
                 long wallMillis, String detail) {

        static List<Event> read(Path file) {
            List<String> lines;
            try {
                if (!Files.exists(file)) {
                    return List.of();
                }
                String text = Files.readString(file, StandardCharsets.UTF_8);
                lines = List.of(text.substring(0, text.lastIndexOf('\n') + 1).split("\n")); // whole lines only
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            List<Event> out = new ArrayList<>(lines.size());
            for (String line : lines) {
                String[] f = line.split("\t", -1);
                if (f.length < 9) {
                    continue;
                }
                out.add(new Event(f[0], f[1], Integer.parseInt(f[2]), f[3], f[4], f[5], Long.parseLong(f[6]),
                        Long.parseLong(f[7]), String.join("\t", Arrays.asList(f).subList(8, f.length))));
            }
            return out;
        }

        boolean is(String t) {
            return type.equals(t);
        }
    }
}
