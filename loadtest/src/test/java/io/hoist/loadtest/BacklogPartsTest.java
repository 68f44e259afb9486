package io.hoist.loadtest;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The backlog scenario's pure parts: the medians it compares and the recovery line it reads from the broker's log. */
class BacklogPartsTest {

    private static FixedDepthRounds.Rates rates(Double... perRound) {
        return new FixedDepthRounds.Rates(List.of(perRound), 10, 10, 0, 10, 0);
    }

    @Test
    void median_ofOddAndEvenCounts() {
        assertThat(rates(30.0, 10.0, 20.0).median()).isEqualTo(20.0);
        assertThat(rates(40.0, 10.0, 20.0, 30.0).median()).isEqualTo(25.0);
        assertThat(rates(30.0, 10.0, 20.0).min()).isEqualTo(10.0);
        assertThat(rates(30.0, 10.0, 20.0).max()).isEqualTo(30.0);
        assertThat(rates().median()).isNaN();
    }

    @Test
    void rates_areCompleteOnlyWhenEveryJobWasAckedAndToppedUp() {
        assertThat(rates(1.0).complete()).isTrue();
        assertThat(new FixedDepthRounds.Rates(List.of(1.0), 12, 10, 0, 12, 0).complete()).as("a few extra acks").isTrue();
        assertThat(new FixedDepthRounds.Rates(List.of(1.0), 9, 10, 0, 9, 0).complete()).isFalse();
        assertThat(new FixedDepthRounds.Rates(List.of(1.0), 10, 10, 1, 10, 0).complete()).isFalse();
        assertThat(new FixedDepthRounds.Rates(List.of(1.0), 10, 10, 0, 10, 2).complete()).isFalse();
    }

    @Test
    void recovery_isReadFromTheLastRecoveredLine() {
        RestartProbe.Recovery r = RestartProbe.lastRecovery(List.of(
                "03:00:00.000 INFO  i.h.b.runtime.EngineLoop - recovered jobs=0 sessions=0 unique_keys=0 in 3 ms",
                "03:00:01.000 INFO  i.h.b.BrokerServer - hoist broker serving gRPC on ...",
                "03:05:00.000 INFO  i.h.b.runtime.EngineLoop - recovered jobs=1000000 sessions=4 unique_keys=0 in 8123 ms"));
        assertThat(r).isEqualTo(new RestartProbe.Recovery(1_000_000, 8123));
    }

    @Test
    void recovery_isUnknownWithoutARecoveredLine() {
        assertThat(RestartProbe.lastRecovery(List.of("java.lang.OutOfMemoryError: Java heap space")))
                .isEqualTo(RestartProbe.Recovery.UNKNOWN);
    }
}
