package io.hoist.loadtest;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The soak's pure parts: the flatness rule, the metric parser and the duration flags. */
class SoakPartsTest {

    private static Flatness.Verdict judge(double early, double late) {
        List<Double> t = new ArrayList<>();
        List<Double> v = new ArrayList<>();
        for (int s = 10; s <= 600; s += 10) {
            t.add((double) s);
            v.add(s <= 300 ? early : late); // the second minute sees `early`, the last minute `late`
        }
        return Flatness.judge("x", t, v, 600, 0.25, 2);
    }

    @Test
    void seriesWithinToleranceAndSlack_isFlat() {
        assertThat(judge(100, 126).flat()).isTrue(); // limit 100 × 1.25 + 2 = 127
        assertThat(judge(100, 60).flat()).isTrue(); // falling is fine
    }

    @Test
    void seriesPastTheLimit_grew() {
        Flatness.Verdict v = judge(100, 128);
        assertThat(v.flat()).isFalse();
        assertThat(v.earlyMedian()).isEqualTo(100);
        assertThat(v.lateMedian()).isEqualTo(128);
        assertThat(v.describe()).startsWith("GREW");
    }

    @Test
    void seriesWithoutSamples_isNotCalledFlat() {
        Flatness.Verdict v = Flatness.judge("rss", List.of(70.0, 590.0), List.of(-1.0, -1.0), 600, 0.25, 2);
        assertThat(v.flat()).isFalse();
        assertThat(v.known()).isFalse();
        assertThat(v.describe()).startsWith("n/a");
    }

    @Test
    void metricParser_sumsTheHeapPools_andPicksOldGen() {
        String text = """
                # HELP jvm_memory_used_bytes The amount of used memory
                # TYPE jvm_memory_used_bytes gauge
                jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 1.048576E7
                jvm_memory_used_bytes{area="heap",id="G1 Old Gen"} 2.097152E7
                jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 5.0E7
                process_files_open_files 123.0
                """;
        assertThat(BrokerSampler.sum(text, "jvm_memory_used_bytes", "area=\"heap\"", null)).isEqualTo(31_457_280);
        assertThat(BrokerSampler.sum(text, "jvm_memory_used_bytes", "area=\"heap\"", "Old Gen")).isEqualTo(20_971_520);
        assertThat(BrokerSampler.sum(text, "process_files_open_files", null, null)).isEqualTo(123);
        assertThat(BrokerSampler.sum(text, "process_resident_memory_bytes", null, null)).isEqualTo(-1);
    }

    @Test
    void durations_readTheBrokersForm() {
        DurationConverter c = new DurationConverter();
        assertThat(c.convert("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(c.convert("10m")).isEqualTo(Duration.ofMinutes(10));
        assertThat(DurationConverter.format(Duration.ofSeconds(5))).isEqualTo("5s");
        assertThatThrownBy(() -> c.convert("10 minutes")).hasMessageContaining("like 500ms");
    }
}
