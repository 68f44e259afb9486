package io.hoist.sdk.internal;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackoffTest {
    private static Backoff withRandom(double r) {
        return new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2), 2.0, 0.5, () -> r);
    }

    @Test
    void withoutJitter_doublesFromInitialUpToTheCap() {
        Backoff b = withRandom(0.0);

        assertThat(IntStream.rangeClosed(1, 7).mapToObj(b::delay).map(Duration::toMillis))
                .containsExactly(100L, 200L, 400L, 800L, 1600L, 2000L, 2000L);
    }

    @Test
    void jitterOnlyShortens_byUpToItsFraction() {
        Backoff b = withRandom(0.999_999);

        assertThat(b.delay(1)).isEqualTo(Duration.ofMillis(50));
        assertThat(b.delay(10)).isEqualTo(Duration.ofMillis(1000));
    }

    @Test
    void hugeRetryCounts_stayAtTheCap() {
        assertThat(withRandom(0.0).delay(10_000)).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void badSettings_areRefused() {
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), 2, 0.5, () -> 0))
                .hasMessageContaining("initial");
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 0.5, () -> 0))
                .hasMessageContaining("shorter");
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1), 0.5, 0.5, () -> 0))
                .hasMessageContaining("multiplier");
        assertThatThrownBy(() -> withRandom(0).delay(0)).hasMessageContaining("from 1");
    }
}
