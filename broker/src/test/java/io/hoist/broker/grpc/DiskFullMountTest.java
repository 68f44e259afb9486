package io.hoist.broker.grpc;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.proto.v1.AckOutcome;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.LeasedJob;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.hoist.broker.grpc.BrokerFixture.spec;
import static io.hoist.broker.grpc.RpcErrorAssert.assertRpcError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/**
 * A disk that is really full: the data dir on a 16 MiB tmpfs, most of it taken by a filler file,
 * no {@code --min-free-disk} floor, so a RocksDB write fails with ENOSPC. Needs root and a
 * working {@code mount} (CI has both); skipped otherwise.
 */
class DiskFullMountTest {
    private static final int PAYLOAD_BYTES = 64 << 10;
    private final HttpClient http = HttpClient.newHttpClient();
    private Path mount;
    private Path filler;
    private BrokerFixture broker;

    @BeforeEach
    void mountSmallDisk(@TempDir Path dir) throws Exception {
        assumeThat(System.getProperty("user.name")).as("mounting a tmpfs needs root").isEqualTo("root");
        mount = dir.resolve("disk");
        Files.createDirectories(mount);
        assumeThat(run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mount.toString()))
                .as("mount -t tmpfs works here").isZero();
        filler = mount.resolve("filler");
    }

    @AfterEach
    void unmount() throws Exception {
        if (broker != null) {
            broker.close();
        }
        if (mount != null) {
            run("umount", "-l", mount.toString());
        }
    }

    @Test
    void aFullDisk_refusesWritesWithDiskFull_losesNothing_andWritesResumeWhenSpaceIsFreed() throws Exception {
        broker = BrokerFixture.start(BrokerConfig.defaults(mount.resolve("data")).withMinFreeDisk(0));
        String worker = broker.register("q");
        broker.enqueue(spec("q").setJobId("held"));
        LeasedJob held = broker.leaseOne(worker, "q");
        fill(Files.getFileStore(mount).getUsableSpace() - (3 << 20));

        List<String> stored = new ArrayList<>();
        List<String> refusedBatch = null;
        for (int batch = 0; batch < 200 && refusedBatch == null; batch++) {
            List<String> ids = new ArrayList<>();
            JobSpec.Builder[] specs = new JobSpec.Builder[8];
            for (int i = 0; i < specs.length; i++) {
                ids.add("b" + batch + "-" + i);
                specs[i] = spec("q").setJobId(ids.get(i)).setPayload(ByteString.copyFrom(new byte[PAYLOAD_BYTES]));
            }
            StatusRuntimeException e = catchThrowableOfType(() -> broker.enqueue(specs), StatusRuntimeException.class);
            if (e == null) {
                stored.addAll(ids);
            } else {
                assertRpcError(() -> {
                    throw e;
                }).hasCode(Status.Code.RESOURCE_EXHAUSTED).hasReason("DISK_FULL");
                refusedBatch = ids;
            }
        }
        assertThat(refusedBatch).as("the disk filled up").isNotNull();
        assertThat(stored).as("some batches fit before").isNotEmpty();

        assertThat(readyz().statusCode()).isEqualTo(503);
        assertThat(readyz().body()).contains("disk full");
        assertThat(broker.job(stored.get(0)).getState()).as("reads go on").isEqualTo(JobState.JOB_STATE_READY);
        assertRpcError(() -> broker.ack(worker, held)).as("RocksDB takes no write until it is reopened")
                .hasCode(Status.Code.RESOURCE_EXHAUSTED).hasReason("DISK_FULL");
        assertRpcError(() -> broker.enqueue(spec("q"))).hasCode(Status.Code.RESOURCE_EXHAUSTED).hasReason("DISK_FULL");

        Files.delete(filler);
        await().atMost(Duration.ofSeconds(10)).until(() -> readyz().statusCode() == 200);
        assertThat(broker.enqueue(spec("q").setJobId("after")).getJobId()).isEqualTo("after");
        assertThat(broker.ack(worker, held)).singleElement()
                .satisfies(r -> assertThat(r.getOutcome()).isEqualTo(AckOutcome.ACK_OUTCOME_ACKED));

        for (String id : stored) {
            assertThat(broker.job(id).getSpec().getPayload().size()).as(id).isEqualTo(PAYLOAD_BYTES);
        }
        long refusedThere = refusedBatch.stream().filter(this::exists).count();
        assertThat(refusedThere).as("the refused batch is stored whole or not at all")
                .isIn(0L, (long) refusedBatch.size());
        assertThat(broker.job("held").getState()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
    }

    private boolean exists(String id) {
        try {
            broker.job(id);
            return true;
        } catch (StatusRuntimeException e) {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
            return false;
        }
    }

    private void fill(long bytes) throws IOException {
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(filler)) {
            for (long left = bytes; left > 0; left -= chunk.length) {
                out.write(chunk, 0, (int) Math.min(chunk.length, left));
            }
        }
    }

    private HttpResponse<String> readyz() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + broker.httpPort() + "/readyz"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
