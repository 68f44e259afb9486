package io.hoist.broker.grpc;

import io.grpc.Status;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.proto.v1.AckOutcome;
import io.hoist.proto.v1.CancelJobRequest;
import io.hoist.proto.v1.GetJobRequest;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.ListQueuesRequest;
import io.hoist.proto.v1.NackRequest;
import io.hoist.proto.v1.QueueInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static io.hoist.broker.grpc.BrokerFixture.spec;
import static io.hoist.broker.grpc.RpcErrorAssert.assertRpcError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The {@code --min-free-disk} floor through a real broker: the test decides how much room the
 * data dir has left. Below the floor enqueues are refused whole with RESOURCE_EXHAUSTED /
 * DISK_FULL while the jobs already stored can still be leased, acked, nacked and cancelled;
 * /readyz says why; when space comes back enqueues are taken again without a restart.
 */
class DiskAlmostFullTest {
    private static final long MIB = 1 << 20;
    private final HttpClient http = HttpClient.newHttpClient();
    private final AtomicLong free = new AtomicLong(1024 * MIB);
    private BrokerFixture broker;

    @BeforeEach
    void start(@TempDir Path dir) throws Exception {
        broker = BrokerFixture.start(BrokerConfig.defaults(dir.resolve("data")).withMinFreeDisk(64 * MIB), free::get);
    }

    @AfterEach
    void stop() throws Exception {
        broker.close();
    }

    @Test
    void belowTheFloor_enqueuesAreRefusedWhole_storedJobsKeepMoving_andEnqueuesComeBackWithSpace() throws Exception {
        String toAck = broker.enqueueId("mail");
        String toNack = broker.enqueueId("mail");
        String toCancel = broker.enqueueId("mail");
        String toLeaseLater = broker.enqueueId("mail");
        String worker = broker.register("mail");
        LeasedJob ackLease = broker.leaseOne(worker, "mail");
        LeasedJob nackLease = broker.leaseOne(worker, "mail");
        assertThat(readyz().statusCode()).isEqualTo(200);

        free.set(10 * MIB);
        await().atMost(Duration.ofSeconds(5)).until(() -> readyz().statusCode() == 503);
        assertThat(readyz().body()).contains("disk almost full").contains("MiB free in")
                .contains("below --min-free-disk 64MiB");
        assertThat(metric("hoist_disk_free_bytes")).isEqualTo(10.0 * MIB);
        assertThat(metric("hoist_disk_min_free_bytes")).isEqualTo(64.0 * MIB);

        assertRpcError(() -> broker.enqueue(spec("mail").setJobId("refused-1"), spec("other").setJobId("refused-2")))
                .hasCode(Status.Code.RESOURCE_EXHAUSTED).hasReason("DISK_FULL");
        for (String id : new String[]{"refused-1", "refused-2"}) {
            assertRpcError(() -> broker.job(id)).as("nothing of the refused batch is stored")
                    .hasCode(Status.Code.NOT_FOUND);
        }

        // what drains a backlog still works
        assertThat(broker.ack(worker, ackLease)).singleElement()
                .satisfies(r -> assertThat(r.getOutcome()).isEqualTo(AckOutcome.ACK_OUTCOME_ACKED));
        assertThat(broker.workers().nack(NackRequest.newBuilder().setWorkerId(worker).setJobId(toNack)
                .setLeaseToken(nackLease.getLeaseToken()).setError("boom").build()).getState())
                .isEqualTo(JobState.JOB_STATE_SCHEDULED);
        assertThat(broker.jobs().cancelJob(CancelJobRequest.newBuilder().setJobId(toCancel).build()).getState())
                .isEqualTo(JobState.JOB_STATE_CANCELED);
        assertThat(broker.heartbeat(worker).getLostJobIdsList()).isEmpty();
        LeasedJob later = broker.leaseOne(worker, "mail");
        assertThat(later.getJob().getId()).isEqualTo(toLeaseLater);
        assertThat(broker.register("other")).isNotEmpty();
        assertThat(readyz().statusCode()).as("still short of space").isEqualTo(503);

        free.set(512 * MIB);
        await().atMost(Duration.ofSeconds(5)).until(() -> readyz().statusCode() == 200);
        String after = broker.enqueue(spec("mail").setJobId("refused-1")).getJobId();
        assertThat(after).isEqualTo("refused-1");
        assertThat(broker.ack(worker, later)).singleElement()
                .satisfies(r -> assertThat(r.getOutcome()).isEqualTo(AckOutcome.ACK_OUTCOME_ACKED));

        assertThat(state(toAck)).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
        assertThat(state(toNack)).isEqualTo(JobState.JOB_STATE_SCHEDULED);
        assertThat(state(toCancel)).isEqualTo(JobState.JOB_STATE_CANCELED);
        assertThat(state(toLeaseLater)).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
        assertThat(state("refused-1")).isEqualTo(JobState.JOB_STATE_READY);
        QueueInfo mail = broker.admin().listQueues(ListQueuesRequest.getDefaultInstance()).getQueuesList().stream()
                .filter(q -> q.getName().equals("mail")).findFirst().orElseThrow();
        assertThat(mail.getReady() + mail.getScheduled() + mail.getLeased()).isEqualTo(2);
    }

    @Test
    void atTheFloorExactly_enqueuesAreTaken() throws Exception {
        free.set(64 * MIB - 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> readyz().statusCode() == 503);
        free.set(64 * MIB);
        await().atMost(Duration.ofSeconds(5)).until(() -> readyz().statusCode() == 200);
        assertThat(broker.enqueueId("mail")).isNotEmpty();
    }

    private JobState state(String id) {
        return broker.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build()).getState();
    }

    /** The value of an unlabelled sample in /metrics. */
    private double metric(String name) throws Exception {
        String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + broker.httpPort() + "/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
        return body.lines().filter(l -> l.startsWith(name + " ")).map(l -> Double.parseDouble(l.substring(name.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError(name + " not in /metrics"));
    }

    private HttpResponse<String> readyz() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + broker.httpPort() + "/readyz"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
