package io.hoist.loadtest;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SummaryTest {

    private final Summary summary = new Summary()
            .put("scenario", "enqueue")
            .put("jobs", 200_000L)
            .put("seconds", 4.2)
            .put("jobs_per_second", 47_619L);

    @Test
    void tableAlignsValuesAndSeparatesThousands() {
        assertThat(summary.toTable().split("\\R")).containsExactly(
                "scenario         enqueue",
                "jobs             200,000",
                "seconds          4.200",
                "jobs_per_second  47,619");
    }

    @Test
    void jsonIsOneObjectWithNumbersAsNumbers() {
        assertThat(summary.toJson())
                .isEqualTo("{\"scenario\":\"enqueue\",\"jobs\":200000,\"seconds\":4.200,\"jobs_per_second\":47619}");
    }

    @Test
    void jsonEscapesStringsAndWritesNoNaN() {
        assertThat(new Summary().put("q", "a\"b\\c\n").put("x", Double.NaN).toJson())
                .isEqualTo("{\"q\":\"a\\\"b\\\\c\\n\",\"x\":null}");
    }

    @Test
    void progressLineShowsCountPercentAndRate() {
        assertThat(ProgressBar.line("drain", 500, 1000, 2_000_000_000L))
                .isEqualTo("drain [###############---------------]  50% 500/1,000 250/s 2.0s ");
    }
}
