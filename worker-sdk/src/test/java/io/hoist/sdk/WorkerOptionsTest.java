package io.hoist.sdk;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkerOptionsTest {

    @Test
    void defaults_areTheDocumentedOnes() {
        WorkerOptions o = WorkerOptions.builder().queues("q").build();

        assertThat(o.targets()).containsExactly("localhost:7070");
        assertThat(o.channel()).isEmpty();
        assertThat(o.concurrency()).isEqualTo(10);
        assertThat(o.gracePeriod()).isEqualTo(Duration.ofSeconds(30));
        assertThat(o.callTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(o.reconnectInitialBackoff()).isEqualTo(Duration.ofMillis(100));
        assertThat(o.reconnectMaxBackoff()).isEqualTo(Duration.ofSeconds(5));
        assertThat(o.codec()).isInstanceOf(JsonCodec.class);
        assertThat(o.name()).contains("@");
        assertThat(o.labels()).isEmpty();
    }

    @Test
    void outOfRangeValues_areRefusedByName() {
        assertThatThrownBy(() -> WorkerOptions.builder().build()).hasMessageContaining("queue");
        assertThatThrownBy(() -> WorkerOptions.builder().queues("q", "q").build()).hasMessageContaining("repeat");
        assertThatThrownBy(() -> WorkerOptions.builder().queues("q").concurrency(0).build())
                .hasMessageContaining("concurrency");
        assertThatThrownBy(() -> WorkerOptions.builder().queues("q").concurrency(1_001).build())
                .hasMessageContaining("concurrency");
        assertThatThrownBy(() -> WorkerOptions.builder().queues("q").gracePeriod(Duration.ofSeconds(-1)).build())
                .hasMessageContaining("gracePeriod");
        assertThatThrownBy(() -> WorkerOptions.builder().queues("q").targets(java.util.List.of()).build())
                .hasMessageContaining("targets");
        assertThatThrownBy(() -> WorkerOptions.builder().queues("q")
                .reconnectBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)).build()).hasMessageContaining("shorter");
    }

    @Test
    void aWorkerWithoutHandlers_isRefused() {
        assertThatThrownBy(() -> Worker.builder().queues("q").build()).hasMessageContaining("handler");
        assertThatThrownBy(() -> Worker.builder().queues("q").handle("t", ctx -> { }).handle("t", ctx -> { }))
                .hasMessageContaining("already");
    }

    @Test
    void toBuilder_keepsEveryOption() {
        WorkerOptions o = WorkerOptions.builder().targets(java.util.List.of("a:1", "b:2")).queues("x", "y")
                .concurrency(3).name("n").label("zone", "eu").gracePeriod(Duration.ofSeconds(1)).build();

        assertThat(o.toBuilder().build()).usingRecursiveComparison().isEqualTo(o);
    }

    @Test
    void clientOptions_areChecked() {
        assertThatThrownBy(() -> HoistClient.builder().queueFullAttempts(0).build())
                .hasMessageContaining("queueFullAttempts");
        assertThatThrownBy(() -> HoistClient.builder().callTimeout(Duration.ZERO).build())
                .hasMessageContaining("callTimeout");
    }
}
