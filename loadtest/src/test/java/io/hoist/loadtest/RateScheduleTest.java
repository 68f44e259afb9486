package io.hoist.loadtest;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RateScheduleTest {

    @Test
    void spacesJobsEvenlyFromTheStart() {
        RateSchedule s = new RateSchedule(1_000, 2000, 20);
        assertThat(s.jobs()).isEqualTo(40_000);
        assertThat(s.intendedNanos(0)).isEqualTo(1_000);
        assertThat(s.intendedNanos(1)).isEqualTo(1_000 + 500_000);
        assertThat(s.intendedNanos(2000)).isEqualTo(1_000 + 1_000_000_000L);
    }

    @Test
    void doesNotDriftWhenThePeriodIsNotAWholeNumberOfNanoseconds() {
        RateSchedule s = new RateSchedule(0, 3, 1000);
        assertThat(s.intendedNanos(3)).isEqualTo(1_000_000_000L);
        assertThat(s.intendedNanos(2999)).isEqualTo(999_666_666_666L);
        for (long i = 1; i < s.jobs(); i++) assertThat(s.intendedNanos(i)).isGreaterThan(s.intendedNanos(i - 1));
    }

    @Test
    void refusesJobsOutsideTheRunAndNonsenseRates() {
        RateSchedule s = new RateSchedule(0, 10, 1);
        assertThatThrownBy(() -> s.intendedNanos(10)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> new RateSchedule(0, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateSchedule(0, 1, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
