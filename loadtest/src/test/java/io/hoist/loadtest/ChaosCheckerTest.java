package io.hoist.loadtest;

import io.hoist.loadtest.ChaosChecker.Findings;
import io.hoist.loadtest.EventLog.Event;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Each invariant of the crash-loop checker, broken on purpose in a small made-up history. */
class ChaosCheckerTest {
    private final List<Event> produced = new ArrayList<>();
    private final List<Event> worked = new ArrayList<>();
    private final Map<String, Job> broker = new HashMap<>();
    private long clock;

    private void enqueued(String id) {
        produced.add(new Event("ENQUEUED", id, "-", 0, ++clock));
    }

    private void delivered(String id, String token, int attempt) {
        worked.add(new Event("RECEIVED", id, token, attempt, ++clock));
    }

    private void acked(String id, String token) {
        worked.add(new Event("ACKED", id, token, 1, ++clock));
    }

    private void stored(String id, JobState state, int attempt) {
        broker.put(id, Job.newBuilder().setId(id).setState(state).setAttempt(attempt).build());
    }

    /** a: done at once; b: redelivered after a worker kill, acked by the second delivery. */
    private void cleanHistory() {
        enqueued("a");
        enqueued("b");
        delivered("a", "t1", 1);
        acked("a", "t1");
        delivered("b", "t2", 1);
        worked.add(new Event("ACK_REFUSED", "b", "t2", 1, ++clock));
        delivered("b", "t3", 2);
        acked("b", "t3");
        stored("a", JobState.JOB_STATE_SUCCEEDED, 1);
        stored("b", JobState.JOB_STATE_SUCCEEDED, 2);
    }

    @Test
    void cleanHistory_passesAndCountsDeliveries() {
        cleanHistory();
        Findings f = ChaosChecker.check(produced, worked, broker);
        assertThat(f.passed()).isTrue();
        assertThat(f.acknowledged()).isEqualTo(2);
        assertThat(f.deliveries()).isEqualTo(3);
        assertThat(f.redeliveries()).isEqualTo(1);
        assertThat(f.deliveriesPerJob()).containsExactly(Map.entry(1, 1L), Map.entry(2, 1L));
        assertThat(f.acksAccepted()).isEqualTo(2);
        assertThat(f.acksRefused()).isEqualTo(1);
    }

    @Test
    void acknowledgedJobMissingFromTheBroker_isLost() {
        cleanHistory();
        broker.remove("b");
        Findings f = ChaosChecker.check(produced, worked, broker);
        assertThat(f.lost()).isEqualTo(1);
        assertThat(f.lostSample()).containsExactly("b");
        assertThat(f.passed()).isFalse();
    }

    @Test
    void jobStillLeasedAtTheEnd_isUnfinished() {
        cleanHistory();
        enqueued("c");
        stored("c", JobState.JOB_STATE_LEASED, 1);
        Findings f = ChaosChecker.check(produced, worked, broker);
        assertThat(f.unfinished()).isEqualTo(1);
        assertThat(f.unfinishedByState()).containsEntry("LEASED", 1L);
        assertThat(f.passed()).isFalse();
    }

    @Test
    void acceptedAcksOfTwoDeliveries_areACompletionTwice() {
        cleanHistory();
        acked("b", "t2"); // the first delivery's ack accepted too: fencing failed
        Findings f = ChaosChecker.check(produced, worked, broker);
        assertThat(f.completedTwice()).isEqualTo(1);
        assertThat(f.completedTwiceSample()).containsExactly("b");
        assertThat(f.passed()).isFalse();
    }

    @Test
    void deliveryAfterAnAcceptedAck_isCaught() {
        cleanHistory();
        delivered("a", "t9", 2); // the broker forgot the ack of a and handed it out again
        Findings f = ChaosChecker.check(produced, worked, broker);
        assertThat(f.deliveredAfterAck()).isEqualTo(1);
        assertThat(f.passed()).isFalse();
    }

    @Test
    void acceptedAckOfAJobNotSucceeded_isCaught() {
        cleanHistory();
        stored("a", JobState.JOB_STATE_READY, 1);
        Findings f = ChaosChecker.check(produced, worked, broker);
        assertThat(f.ackedNotSucceeded()).isEqualTo(1);
        assertThat(f.passed()).isFalse();
    }

    @Test
    void jobStoredButNeverAcknowledged_isAllowedAndCounted() {
        cleanHistory();
        stored("in-doubt", JobState.JOB_STATE_SUCCEEDED, 1);
        Findings f = ChaosChecker.check(produced, worked, broker);
        assertThat(f.passed()).isTrue();
        assertThat(f.storedNotAcknowledged()).isEqualTo(1);
    }

    @Test
    void eventLog_readsBackWhatWasWritten_andSkipsATornLastLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("w.log");
        try (EventLog log = EventLog.append(file)) {
            log.write("RECEIVED", "j1", "tok", 3);
            log.write("ACKED", "j1", "tok", 3);
        }
        Files.writeString(file, "RECEIVED\tj2\ttok", java.nio.file.StandardOpenOption.APPEND); // killed mid-line
        List<Event> events = EventLog.read(file);
        assertThat(events).extracting(Event::type, Event::jobId, Event::token, Event::attempt)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("RECEIVED", "j1", "tok", 3),
                        org.assertj.core.groups.Tuple.tuple("ACKED", "j1", "tok", 3));
        assertThat(events.get(1).nanos()).isGreaterThanOrEqualTo(events.get(0).nanos());
    }
}
