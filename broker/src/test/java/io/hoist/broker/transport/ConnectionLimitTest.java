package io.hoist.broker.transport;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** How many transport threads the broker's gRPC server gets. */
class ConnectionLimitTest {

    @Test
    void transportThreads_areHalfTheCores_atLeastOne() {
        assertThat(ConnectionLimit.ioThreads(0, 1)).isEqualTo(1);
        assertThat(ConnectionLimit.ioThreads(0, 2)).isEqualTo(1);
        assertThat(ConnectionLimit.ioThreads(0, 3)).isEqualTo(1);
        assertThat(ConnectionLimit.ioThreads(0, 16)).isEqualTo(8);
    }

    @Test
    void nettysOwnProperty_setsTheNumber() {
        assertThat(ConnectionLimit.ioThreads(6, 2)).isEqualTo(6);
    }
}
