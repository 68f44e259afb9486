package io.hoist.broker.auth;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.hoist.broker.config.SecurityConfig;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.JobServiceGrpc;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.LeaseResponse;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.WorkerServiceGrpc;
import io.hoist.sdk.ConnectionSecurity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/** Client certificates (mTLS), tokens on plaintext loopback, and the per-connection limits, against real brokers. */
class MutualTlsAndLimitsTest {
    @TempDir
    Path dir;

    static EnqueueRequest oneJob() {
        return EnqueueRequest.newBuilder().addJobs(JobSpec.newBuilder().setQueue("q").setType("t")).build();
    }

    static Status.Code codeOf(Runnable call) {
        Throwable t = catchThrowable(call::run);
        return t instanceof StatusRuntimeException e ? e.getStatus().getCode() : Status.Code.OK;
    }

    @Test
    void mutualTls_refusesClientsWithoutACertificateFromTheCa() throws Exception {
        TestPki pki = TestPki.create(dir);
        Path[] client = pki.issue("client", false);
        TestPki stranger = TestPki.create(java.nio.file.Files.createDirectories(dir.resolve("other")));
        Path[] strangerClient = stranger.issue("intruder", false);
        try (SecureBroker broker = SecureBroker.start(dir.resolve("data"),
                SecurityConfig.OPEN.withTls(pki.serverCert, pki.serverKey, pki.caCert))) {
            ConnectionSecurity trusting = ConnectionSecurity.PLAINTEXT.withTrustedCa(pki.caCert);

            assertThat(codeOf(() -> broker.jobs(trusting).enqueue(oneJob()))).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(codeOf(() -> broker.jobs(trusting.withClientCertificate(strangerClient[0], strangerClient[1]))
                    .enqueue(oneJob()))).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(broker.jobs(trusting.withClientCertificate(client[0], client[1])).enqueue(oneJob()).getJobsCount())
                    .isEqualTo(1);
        }
    }

    @Test
    void tokensWithoutTls_stillWork_forALoopbackBroker() throws Exception {
        Path tokens = java.nio.file.Files.writeString(dir.resolve("tokens.yaml"), "tokens:\n" + TokenFile.entry("app",
                Tokens.sha256Hex("hoist_plain"), java.util.Set.of(Role.PRODUCER), java.util.List.of()));
        try (SecureBroker broker = SecureBroker.start(dir.resolve("data"), SecurityConfig.OPEN.withTokens(tokens, false))) {
            assertThat(broker.jobs(ConnectionSecurity.PLAINTEXT.withToken("hoist_plain")).enqueue(oneJob()).getJobsCount()).isEqualTo(1);
            assertThat(codeOf(() -> broker.jobs(ConnectionSecurity.PLAINTEXT).enqueue(oneJob()))).isEqualTo(Status.Code.UNAUTHENTICATED);
        }
    }

    @Test
    void connectionsPastTheLimit_areClosed_untilOneEnds() throws Exception {
        try (SecureBroker broker = SecureBroker.start(dir.resolve("data"), SecurityConfig.OPEN.withLimits(1000, 2))) {
            ManagedChannel a = broker.channel(ConnectionSecurity.PLAINTEXT);
            ManagedChannel b = broker.channel(ConnectionSecurity.PLAINTEXT);
            JobServiceGrpc.newBlockingStub(a).enqueue(oneJob());
            JobServiceGrpc.newBlockingStub(b).enqueue(oneJob());

            ManagedChannel c = broker.channel(ConnectionSecurity.PLAINTEXT);
            assertThat(codeOf(() -> JobServiceGrpc.newBlockingStub(c).withDeadlineAfter(5, TimeUnit.SECONDS).enqueue(oneJob())))
                    .isEqualTo(Status.Code.UNAVAILABLE);

            a.shutdownNow();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                c.resetConnectBackoff();
                assertThat(codeOf(() -> JobServiceGrpc.newBlockingStub(c).withDeadlineAfter(2, TimeUnit.SECONDS)
                        .enqueue(oneJob()))).isEqualTo(Status.Code.OK);
            });
        }
    }

    @Test
    void callsPastTheStreamLimit_waitForAFreeStream() throws Exception {
        try (SecureBroker broker = SecureBroker.start(dir.resolve("data"), SecurityConfig.OPEN.withLimits(1, 100))) {
            ManagedChannel one = broker.channel(ConnectionSecurity.PLAINTEXT);
            String worker = WorkerServiceGrpc.newBlockingStub(one).register(RegisterRequest.newBuilder().setName("w")
                    .addQueues("empty").build()).getWorkerId();
            // a long poll holds the connection's only stream
            ListenableFuture<LeaseResponse> parked = WorkerServiceGrpc.newFutureStub(one).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .lease(LeaseRequest.newBuilder().setWorkerId(worker)
                            .setWait(com.google.protobuf.Duration.newBuilder().setSeconds(1)).build());
            assertThat(codeOf(() -> JobServiceGrpc.newBlockingStub(one).withDeadlineAfter(500, TimeUnit.MILLISECONDS)
                    .enqueue(oneJob()))).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
            // another connection is not held up
            ManagedChannel two = broker.channel(ConnectionSecurity.PLAINTEXT);
            assertThat(JobServiceGrpc.newBlockingStub(two).withDeadlineAfter(5, TimeUnit.SECONDS).enqueue(oneJob()).getJobsCount())
                    .isEqualTo(1);
            // once the long poll ends, the stream is free again
            assertThat(parked.get(10, TimeUnit.SECONDS).getJobsCount()).isZero();
            assertThat(JobServiceGrpc.newBlockingStub(one).withDeadlineAfter(5, TimeUnit.SECONDS).enqueue(oneJob()).getJobsCount())
                    .isEqualTo(1);
        }
    }
}
