package io.hoist.sdk;

import io.grpc.Status;
import io.hoist.broker.BrokerServer;
import io.hoist.broker.auth.QueuePattern;
import io.hoist.broker.auth.Role;
import io.hoist.broker.auth.TestPki;
import io.hoist.broker.auth.TokenFile;
import io.hoist.broker.auth.Tokens;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.broker.config.SecurityConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/** HoistClient and Worker with a token and (mutual) TLS against a broker that requires both. */
class SecureClientTest {
    static final String PRODUCER = "hoist_app-secret";
    static final String WORKER = "hoist_mail-runner-secret";

    @TempDir
    Path dir;
    TestPki pki;
    Path[] clientCert;
    BrokerServer broker;

    @BeforeEach
    void start() throws Exception {
        pki = TestPki.create(dir);
        clientCert = pki.issue("client", false);
        Path tokens = Files.writeString(dir.resolve("tokens.yaml"), "tokens:\n"
                + TokenFile.entry("app", Tokens.sha256Hex(PRODUCER), Set.of(Role.PRODUCER), List.of())
                + TokenFile.entry("mail-runner", Tokens.sha256Hex(WORKER), Set.of(Role.WORKER), List.of(QueuePattern.of("emails.*"))));
        broker = new BrokerServer(BrokerConfig.defaults(dir.resolve("data")).withPorts(0, 0).withSecurity(SecurityConfig.OPEN
                .withTls(pki.serverCert, pki.serverKey, pki.caCert).withTokens(tokens, false)), Clock.systemUTC()).start();
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    HoistClient.Builder client() {
        return HoistClient.builder().target("localhost:" + broker.grpcPort())
                .tlsTrust(pki.caCert).tlsClientCertificate(clientCert[0], clientCert[1]);
    }

    @Test
    void producerAndWorker_withTokensOverMutualTls_runAJob() {
        try (HoistClient client = client().token(PRODUCER).build();
             Worker worker = Worker.builder().target("localhost:" + broker.grpcPort())
                     .tlsTrust(pki.caCert).tlsClientCertificate(clientCert[0], clientCert[1]).token(WORKER)
                     .queues("emails.welcome")
                     .handle("send", ctx -> { })
                     .build().start()) {
            String id = client.enqueue("emails.welcome", "send", "hi").jobId();
            String streamed = client.enqueueAsync(JobRequest.of("emails.welcome", "send", "hi")).join().jobId();
            await().atMost(Duration.ofSeconds(10)).until(() -> client.getJob(id).state() == JobState.SUCCEEDED
                    && client.getJob(streamed).state() == JobState.SUCCEEDED);
            assertThat(worker.options().toString()).contains("token=set").doesNotContain(WORKER);
        }
    }

    @Test
    void wrongTokenOrRole_failWithTheBrokersReason() {
        try (HoistClient stranger = client().token("hoist_guess").build();
             HoistClient workerAsProducer = client().token(WORKER).build();
             HoistClient anonymous = client().build()) {
            HoistException unknown = catchThrowableOfType(HoistException.class, () -> stranger.enqueue("emails.x", "send", "hi"));
            assertThat(unknown.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(unknown.reason()).isEqualTo("UNAUTHENTICATED");
            assertThat(catchThrowableOfType(HoistException.class, () -> anonymous.getJob("any")).code())
                    .isEqualTo(Status.Code.UNAUTHENTICATED);
            HoistException denied = catchThrowableOfType(HoistException.class, () -> workerAsProducer.enqueue("emails.x", "send", "hi"));
            assertThat(denied.code()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(denied.reason()).isEqualTo("PERMISSION_DENIED");
        }
    }

    @Test
    void clientWithoutItsCertificate_cannotReachAMutualTlsBroker() {
        try (HoistClient noCert = HoistClient.builder().target("localhost:" + broker.grpcPort()).tlsTrust(pki.caCert)
                .token(PRODUCER).build()) {
            assertThat(catchThrowableOfType(BrokerUnavailableException.class, () -> noCert.enqueue("emails.x", "send", "hi")))
                    .isNotNull();
        }
    }
}
