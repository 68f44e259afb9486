package io.hoist.broker.auth;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.hoist.broker.config.SecurityConfig;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.CancelJobRequest;
import io.hoist.proto.v1.CreateCheckpointRequest;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.GetJobRequest;
import io.hoist.proto.v1.JobAck;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.ListJobsRequest;
import io.hoist.proto.v1.ListQueuesRequest;
import io.hoist.proto.v1.PurgeQueueRequest;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.sdk.ConnectionSecurity;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Tokens and roles end to end: a broker serving TLS with a certificate made here, a tokens file
 * of hashed secrets, and clients that connect the way the SDK does. Each role may do exactly what
 * it should; everything else is UNAUTHENTICATED or PERMISSION_DENIED with an ErrorInfo.
 */
class AuthTest {
    static final String PRODUCER = "hoist_producer-secret";
    static final String WORKER = "hoist_worker-secret";
    static final String ADMIN = "hoist_admin-secret";
    static final String EMAILS = "hoist_emails-only-secret";
    static final String EMAILS_ADMIN = "hoist_emails-admin-secret";

    @TempDir
    static Path dir;
    static TestPki pki;
    static SecureBroker broker;

    @BeforeAll
    static void start() throws Exception {
        pki = TestPki.create(dir);
        Path tokens = Files.writeString(dir.resolve("tokens.yaml"), "tokens:\n"
                + TokenFile.entry("billing", Tokens.sha256Hex(PRODUCER), java.util.Set.of(Role.PRODUCER), List.of())
                + TokenFile.entry("runner", Tokens.sha256Hex(WORKER), java.util.Set.of(Role.WORKER), List.of())
                + TokenFile.entry("ops", Tokens.sha256Hex(ADMIN), java.util.Set.of(Role.ADMIN), List.of())
                + TokenFile.entry("mailer", Tokens.sha256Hex(EMAILS), java.util.Set.of(Role.PRODUCER, Role.WORKER),
                        List.of(QueuePattern.of("emails.*")))
                + TokenFile.entry("mail-ops", Tokens.sha256Hex(EMAILS_ADMIN), java.util.Set.of(Role.ADMIN),
                        List.of(QueuePattern.of("emails.*"))));
        broker = SecureBroker.start(dir.resolve("data"), SecurityConfig.OPEN
                .withTls(pki.serverCert, pki.serverKey, null).withTokens(tokens, true));
    }

    @AfterAll
    static void stop() throws Exception {
        broker.close();
    }

    static ConnectionSecurity as(String secret) {
        ConnectionSecurity tls = ConnectionSecurity.PLAINTEXT.withTrustedCa(pki.caCert);
        return secret == null ? tls : tls.withToken(secret);
    }

    static EnqueueRequest enqueue(String... queues) {
        EnqueueRequest.Builder b = EnqueueRequest.newBuilder();
        for (String q : queues) {
            b.addJobs(JobSpec.newBuilder().setQueue(q).setType("t"));
        }
        return b.build();
    }

    static void assertRefused(ThrowingCallable call, Status.Code code, String reason) {
        Throwable t = catchThrowable(call);
        assertThat(t).as("the call should be refused").isInstanceOf(StatusRuntimeException.class);
        StatusRuntimeException e = (StatusRuntimeException) t;
        assertThat(e.getStatus().getCode()).as("code of %s", e.getStatus()).isEqualTo(code);
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        assertThat(status).as("rich status").isNotNull();
        ErrorInfo info = status.getDetailsList().stream().filter(d -> d.is(ErrorInfo.class)).findFirst()
                .map(AuthTest::unpack).orElseThrow(() -> new AssertionError("no ErrorInfo in " + status));
        assertThat(info.getDomain()).isEqualTo("hoist.io");
        assertThat(info.getReason()).isEqualTo(reason);
    }

    static ErrorInfo unpack(Any any) {
        try {
            return any.unpack(ErrorInfo.class);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static void assertDenied(ThrowingCallable call) {
        assertRefused(call, Status.Code.PERMISSION_DENIED, "PERMISSION_DENIED");
    }

    @Test
    void workerToken_leasesAndAcks_butCannotEnqueueOrPurge() {
        String id = broker.jobs(as(ADMIN)).enqueue(enqueue("work")).getJobs(0).getJobId();
        var w = broker.workers(as(WORKER));
        String worker = w.register(RegisterRequest.newBuilder().setName("w").addQueues("work").build()).getWorkerId();
        LeasedJob leased = w.lease(LeaseRequest.newBuilder().setWorkerId(worker).setMaxJobs(1).build()).getJobs(0);
        assertThat(leased.getJob().getId()).isEqualTo(id);
        assertThat(w.ack(AckRequest.newBuilder().setWorkerId(worker).addAcks(JobAck.newBuilder()
                .setJobId(id).setLeaseToken(leased.getLeaseToken())).build()).getResults(0).getOutcome().name())
                .isEqualTo("ACK_OUTCOME_ACKED");

        assertDenied(() -> broker.jobs(as(WORKER)).enqueue(enqueue("work")));
        assertDenied(() -> broker.jobs(as(WORKER)).getJob(GetJobRequest.newBuilder().setJobId(id).build()));
        assertDenied(() -> broker.admin(as(WORKER)).purgeQueue(PurgeQueueRequest.newBuilder().setName("work").build()));
        assertDenied(() -> broker.admin(as(WORKER)).listQueues(ListQueuesRequest.getDefaultInstance()));
    }

    @Test
    void producerToken_enqueuesGetsAndCancels_butCannotLeaseOrAdminister() {
        var jobs = broker.jobs(as(PRODUCER));
        String id = jobs.enqueue(enqueue("produce")).getJobs(0).getJobId();
        assertThat(jobs.getJob(GetJobRequest.newBuilder().setJobId(id).build()).getId()).isEqualTo(id);
        assertThat(jobs.cancelJob(CancelJobRequest.newBuilder().setJobId(id).build()).getState().name())
                .isEqualTo("JOB_STATE_CANCELED");

        assertDenied(() -> broker.workers(as(PRODUCER)).register(RegisterRequest.newBuilder().setName("p").addQueues("produce").build()));
        assertDenied(() -> broker.workers(as(PRODUCER)).lease(LeaseRequest.newBuilder().setWorkerId("any").build()));
        assertDenied(() -> broker.admin(as(PRODUCER)).listQueues(ListQueuesRequest.getDefaultInstance()));
        assertDenied(() -> broker.admin(as(PRODUCER)).purgeQueue(PurgeQueueRequest.newBuilder().setName("produce").build()));
    }

    @Test
    void adminToken_mayDoEverything() {
        var jobs = broker.jobs(as(ADMIN));
        jobs.enqueue(enqueue("everything", "everything"));
        var w = broker.workers(as(ADMIN));
        String worker = w.register(RegisterRequest.newBuilder().setName("a").addQueues("everything").build()).getWorkerId();
        assertThat(w.lease(LeaseRequest.newBuilder().setWorkerId(worker).setMaxJobs(1).build()).getJobsCount()).isEqualTo(1);
        var admin = broker.admin(as(ADMIN));
        assertThat(admin.listQueues(ListQueuesRequest.getDefaultInstance()).getQueuesList())
                .anyMatch(q -> q.getName().equals("everything"));
        assertThat(admin.purgeQueue(PurgeQueueRequest.newBuilder().setName("everything").build()).getRemoved()).isEqualTo(1);
    }

    @Test
    void queueLimitedToken_isRefusedOnAnotherQueue() {
        var jobs = broker.jobs(as(EMAILS));
        assertThat(jobs.enqueue(enqueue("emails.welcome", "emails.reset")).getJobsCount()).isEqualTo(2);
        assertDenied(() -> broker.jobs(as(EMAILS)).enqueue(enqueue("billing")));
        // one foreign queue refuses the whole batch, and stores nothing of it
        long before = queueDepth("emails.welcome");
        assertDenied(() -> broker.jobs(as(EMAILS)).enqueue(enqueue("emails.welcome", "billing")));
        assertThat(queueDepth("emails.welcome")).isEqualTo(before);

        var w = broker.workers(as(EMAILS));
        assertDenied(() -> broker.workers(as(EMAILS)).register(RegisterRequest.newBuilder().setName("m")
                .addQueues("emails.welcome").addQueues("billing").build()));
        String worker = w.register(RegisterRequest.newBuilder().setName("m").addQueues("emails.welcome").build()).getWorkerId();
        assertDenied(() -> broker.workers(as(EMAILS)).lease(LeaseRequest.newBuilder().setWorkerId(worker).addQueues("billing").build()));
        assertThat(w.lease(LeaseRequest.newBuilder().setWorkerId(worker).setMaxJobs(1).build()).getJobsCount()).isEqualTo(1);
    }

    @Test
    void enqueueStream_needsTheProducerRole_andEveryMessagesQueuesAllowed() throws Exception {
        assertRefused(() -> streamEnqueue(as(WORKER), "emails.welcome"), Status.Code.PERMISSION_DENIED, "PERMISSION_DENIED");
        assertRefused(() -> streamEnqueue(as(null), "emails.welcome"), Status.Code.UNAUTHENTICATED, "UNAUTHENTICATED");
        assertRefused(() -> streamEnqueue(as(EMAILS), "emails.welcome", "billing"), Status.Code.PERMISSION_DENIED,
                "PERMISSION_DENIED");
        long before = queueDepth("emails.welcome");
        assertThat(streamEnqueue(as(EMAILS), "emails.welcome", "emails.reset")).isEqualTo(2);
        assertThat(queueDepth("emails.welcome")).isEqualTo(before + 1);
    }

    /** One EnqueueStream request per queue; answers how many were stored, or throws the stream's status. */
    static int streamEnqueue(ConnectionSecurity as, String... queues) throws Exception {
        java.util.concurrent.CompletableFuture<Integer> done = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.atomic.AtomicInteger stored = new java.util.concurrent.atomic.AtomicInteger();
        var requests = broker.jobsStreaming(as).enqueueStream(new io.grpc.stub.StreamObserver<>() {
            @Override
            public void onNext(io.hoist.proto.v1.EnqueueStreamResponse r) {
                stored.addAndGet(r.getJobsCount());
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.complete(stored.get());
            }
        });
        for (int i = 0; i < queues.length; i++) {
            requests.onNext(io.hoist.proto.v1.EnqueueStreamRequest.newBuilder().setRequestId(i)
                    .addJobs(JobSpec.newBuilder().setQueue(queues[i]).setType("t")).build());
        }
        requests.onCompleted();
        try {
            return done.get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    @Test
    void workerStream_needsTheWorkerRole_andItsQueuesAllowed() throws Exception {
        broker.jobs(as(ADMIN)).enqueue(enqueue("emails.stream"));
        String worker = broker.workers(as(EMAILS)).register(RegisterRequest.newBuilder().setName("s")
                .addQueues("emails.stream").build()).getWorkerId();
        assertRefused(() -> streamLease(as(PRODUCER), worker, "emails.stream"), Status.Code.PERMISSION_DENIED, "PERMISSION_DENIED");
        assertRefused(() -> streamLease(as(EMAILS), worker, "billing"), Status.Code.PERMISSION_DENIED, "PERMISSION_DENIED");
        assertThat(streamLease(as(EMAILS), worker, "emails.stream")).isEqualTo(1);
    }

    /** Opens a WorkerStream with one credit; answers how many jobs came before it was closed, or throws its status. */
    static int streamLease(ConnectionSecurity as, String worker, String queue) throws Exception {
        java.util.concurrent.CompletableFuture<Integer> pushed = new java.util.concurrent.CompletableFuture<>();
        var requests = broker.workersStreaming(as).workerStream(new io.grpc.stub.StreamObserver<>() {
            @Override
            public void onNext(io.hoist.proto.v1.WorkerStreamResponse r) {
                pushed.complete(r.getLeased().getJobsCount());
            }

            @Override
            public void onError(Throwable t) {
                pushed.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                pushed.complete(0);
            }
        });
        requests.onNext(io.hoist.proto.v1.WorkerStreamRequest.newBuilder().setWorkerId(worker).addQueues(queue)
                .setCredits(1).build());
        try {
            return pushed.get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (Exception) e.getCause();
        } finally {
            requests.onCompleted();
        }
    }

    @Test
    void queueLimitedAdmin_administersOnlyItsQueues_andCannotCopyTheStore() {
        broker.jobs(as(ADMIN)).enqueue(enqueue("emails.admin", "reports"));
        var admin = broker.admin(as(EMAILS_ADMIN));
        assertThat(admin.purgeQueue(PurgeQueueRequest.newBuilder().setName("emails.admin").build()).getRemoved()).isEqualTo(1);
        assertDenied(() -> broker.admin(as(EMAILS_ADMIN)).purgeQueue(PurgeQueueRequest.newBuilder().setName("reports").build()));
        assertDenied(() -> broker.admin(as(EMAILS_ADMIN)).listJobs(ListJobsRequest.newBuilder().setQueue("reports").build()));
        assertDenied(() -> broker.admin(as(EMAILS_ADMIN)).createCheckpoint(CreateCheckpointRequest.newBuilder()
                .setPath(dir.resolve("never").toString()).build()));
        assertThat(Files.exists(dir.resolve("never"))).isFalse();
    }

    @Test
    void missingOrWrongToken_isUnauthenticated_andTheLogNamesNoSecret() {
        Logger logger = (Logger) LoggerFactory.getLogger(AuthInterceptor.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        try {
            assertRefused(() -> broker.jobs(as(null)).enqueue(enqueue("x")), Status.Code.UNAUTHENTICATED, "UNAUTHENTICATED");
            assertRefused(() -> broker.jobs(as("hoist_not-a-known-secret")).enqueue(enqueue("x")),
                    Status.Code.UNAUTHENTICATED, "UNAUTHENTICATED");
            assertRefused(() -> broker.admin(as("hoist_not-a-known-secret")).listQueues(ListQueuesRequest.getDefaultInstance()),
                    Status.Code.UNAUTHENTICATED, "UNAUTHENTICATED");
            assertDenied(() -> broker.admin(as(WORKER)).listQueues(ListQueuesRequest.getDefaultInstance()));
        } finally {
            logger.detachAppender(logs);
        }
        List<String> lines = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0)).contains("token=no token", "peer=/127.0.0.1:");
        assertThat(lines.get(1)).contains("token=unknown token", "peer=/127.0.0.1:", "Enqueue");
        assertThat(lines.get(3)).contains("PERMISSION_DENIED", "token=runner", "needs_role=admin");
        assertThat(String.join("\n", lines)).doesNotContain("not-a-known-secret", WORKER);
        assertThat(logs.list).allMatch(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN);
    }

    @Test
    void healthAndReflection_needNoToken() throws Exception {
        HealthCheckResponse health = HealthGrpc.newBlockingStub(broker.channel(as(null)))
                .check(HealthCheckRequest.getDefaultInstance());
        assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        HttpClient https = HttpClient.newBuilder().sslContext(SecureBroker.trusting(pki.caCert)).build();
        assertThat(https.send(get("/healthz"), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        assertThat(https.send(get("/readyz"), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }

    @Test
    void metricsWithAuthFlag_needAnAdminToken() throws Exception {
        HttpClient https = HttpClient.newBuilder().sslContext(SecureBroker.trusting(pki.caCert)).build();
        HttpResponse<String> anonymous = https.send(get("/metrics"), HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("www-authenticate")).hasValue("Bearer");
        assertThat(anonymous.body()).doesNotContain("hoist_jobs");
        assertThat(https.send(get("/metrics", "hoist_wrong"), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        assertThat(https.send(get("/metrics", WORKER), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(403);
        HttpResponse<String> admin = https.send(get("/metrics", ADMIN), HttpResponse.BodyHandlers.ofString());
        assertThat(admin.statusCode()).isEqualTo(200);
        assertThat(admin.body()).contains("hoist_workers");
    }

    @Test
    void plaintextClient_cannotTalkToATlsBroker() {
        Throwable t = catchThrowable(() -> broker.jobs(ConnectionSecurity.PLAINTEXT.withToken(ADMIN)).enqueue(enqueue("x")));
        assertThat(t).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }

    static HttpRequest get(String path) {
        return HttpRequest.newBuilder(URI.create("https://localhost:" + broker.httpPort() + path)).build();
    }

    static HttpRequest get(String path, String secret) {
        return HttpRequest.newBuilder(URI.create("https://localhost:" + broker.httpPort() + path))
                .header("Authorization", "Bearer " + secret).build();
    }

    static long queueDepth(String queue) {
        return broker.admin(as(ADMIN)).listQueues(ListQueuesRequest.getDefaultInstance()).getQueuesList().stream()
                .filter(q -> q.getName().equals(queue)).mapToLong(q -> q.getReady() + q.getLeased()).sum();
    }
}
