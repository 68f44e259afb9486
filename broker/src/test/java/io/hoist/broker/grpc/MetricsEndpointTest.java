package io.hoist.broker.grpc;

import io.hoist.broker.config.BrokerConfig;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.NackRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.hoist.broker.grpc.BrokerFixture.spec;
import static org.assertj.core.api.Assertions.assertThat;

/** A live broker's /metrics after real traffic carries every DESIGN.md metric with the right values. */
class MetricsEndpointTest {
    @TempDir
    Path dir;
    BrokerFixture broker;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        broker = BrokerFixture.start(BrokerConfig.defaults(dir));
    }

    @AfterEach
    void stop() throws Exception {
        broker.close();
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + broker.httpPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Sample lines of the exposition ("name{labels} value"), keyed by everything before the value. */
    Map<String, Double> scrape() throws Exception {
        HttpResponse<String> r = get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
        Map<String, Double> samples = new HashMap<>();
        for (String line : r.body().split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return samples;
    }

    @Test
    void metricsCountWhatHappened() throws Exception {
        for (int i = 0; i < 7; i++) {
            broker.enqueue(spec("mail"));
        }
        broker.enqueue(spec("mail").setJobId("dup"));
        broker.enqueue(spec("mail").setJobId("dup")); // a duplicate stores nothing
        String w = broker.register("mail");
        List<LeasedJob> leased = broker.lease(w, 5, "mail");
        broker.ack(w, leased.get(0), leased.get(1), leased.get(2));
        broker.workers().nack(NackRequest.newBuilder().setWorkerId(w).setJobId(leased.get(3).getJob().getId())
                .setLeaseToken(leased.get(3).getLeaseToken()).setError("retry me").build());
        broker.workers().nack(NackRequest.newBuilder().setWorkerId(w).setJobId(leased.get(4).getJob().getId())
                .setLeaseToken(leased.get(4).getLeaseToken()).setError("fatal").setNonRetryable(true).build());

        Map<String, Double> m = scrape();
        // kept for CI, which lints a scrape taken after real traffic with promtool check metrics
        java.nio.file.Files.writeString(java.nio.file.Path.of("target", "metrics-after-traffic.txt"), get("/metrics").body());
        assertThat(m).containsEntry("hoist_jobs_enqueued_total{queue=\"mail\"}", 8.0)
                .containsEntry("hoist_jobs_leased_total{queue=\"mail\"}", 5.0)
                .containsEntry("hoist_jobs_acked_total{queue=\"mail\"}", 3.0)
                .containsEntry("hoist_jobs_nacked_total{queue=\"mail\"}", 2.0)
                .containsEntry("hoist_jobs_retried_total{queue=\"mail\"}", 1.0)
                .containsEntry("hoist_jobs_dead_total{queue=\"mail\"}", 1.0)
                .containsEntry("hoist_leases_expired_total{queue=\"mail\"}", 0.0)
                .containsEntry("hoist_queue_jobs{queue=\"mail\",state=\"ready\"}", 3.0)
                .containsEntry("hoist_queue_jobs{queue=\"mail\",state=\"scheduled\"}", 1.0)
                .containsEntry("hoist_queue_jobs{queue=\"mail\",state=\"leased\"}", 0.0)
                .containsEntry("hoist_queue_jobs{queue=\"mail\",state=\"dead\"}", 1.0)
                .containsEntry("hoist_workers", 1.0)
                .containsEntry("hoist_job_wait_seconds_count{queue=\"mail\"}", 5.0)
                .containsEntry("hoist_job_run_seconds_count{queue=\"mail\"}", 3.0);
        assertThat(m).containsKey("hoist_job_wait_seconds_bucket{queue=\"mail\",le=\"+Inf\"}");
        assertThat(m.get("hoist_engine_batch_size_count")).isPositive();
        assertThat(m.get("hoist_fsync_seconds_count")).isPositive();
        assertThat(m.get("hoist_store_size_bytes")).isGreaterThanOrEqualTo(0);
        assertThat(m.get("hoist_store_memtable_bytes")).isPositive();
        assertThat(m.get("hoist_store_keys")).isPositive();
        assertThat(m).containsKey("hoist_store_pending_compaction_bytes");
        assertThat(m.keySet()).anyMatch(k -> k.startsWith("jvm_memory_used_bytes"));
        assertThat(m.keySet()).anyMatch(k -> k.startsWith("grpc_server_processing_duration_seconds"));
    }

    @Test
    void healthAndReadiness() throws Exception {
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
        HttpResponse<String> ready = get("/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("ready");
        assertThat(get("/nothing").statusCode()).isEqualTo(404);
    }
}
