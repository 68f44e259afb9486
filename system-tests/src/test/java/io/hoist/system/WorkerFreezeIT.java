package io.hoist.system;

import io.hoist.proto.v1.AckOutcome;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobAck;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.WorkerInfo;
import io.hoist.system.HoistCluster.Event;
import io.hoist.system.HoistCluster.WorkerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A worker frozen with SIGSTOP past its session timeout loses its job to another worker; resumed
 * with SIGCONT, its late result is refused (fencing) and the broker keeps the other worker's
 * completion, the only one; the frozen worker registers again and goes on working.
 */
class WorkerFreezeIT {
    private static final String QUEUE = "freeze";

    @TempDir
    Path tmp;
    @RegisterExtension
    final HoistCluster cluster = new HoistCluster();

    @Test
    @Timeout(value = 60, unit = SECONDS)
    void lateResultOfAFrozenWorkerIsRefusedAndItRegistersAgain() throws Exception {
        cluster.in(tmp).startBroker("--session-timeout", "3s", "--heartbeat-interval", "1s");
        WorkerProcess frozen = cluster.startWorker("frozen", QUEUE, 2, Duration.ofSeconds(10));
        String firstSession = registrations(frozen).get(0);

        String id = cluster.enqueue(List.of(HoistCluster.script(QUEUE, "{\"sleepMillis\":2000}").build())).get(0);
        await("the job running on " + frozen).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> starts(frozen, id).size() == 1);
        HoistCluster.signal("STOP", frozen.pid());

        // the other worker gets the job once the frozen one's session has expired, and completes it
        WorkerProcess other = cluster.startWorker("other", QUEUE, 2, Duration.ofSeconds(10));
        await("the job delivered again to " + other).atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50))
                .until(() -> starts(other, id).size() == 1);
        await("the job acked by " + other).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> other.events().stream().anyMatch(e -> e.is("ACKED") && e.jobId().equals(id)));
        Job done = cluster.job(id);
        assertThat(done.getState()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
        assertThat(done.getAttempt()).as("attempts: the frozen delivery, and the other worker's").isEqualTo(2);

        // resumed: its run ends, and its result is refused by the broker or, known lost, not sent
        HoistCluster.signal("CONT", frozen.pid());
        await("the frozen run's result settled").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50))
                .until(() -> frozen.events().stream().anyMatch(e -> e.jobId().equals(id)
                        && (e.is("ACK_REFUSED") || e.is("NOT_SENT") || e.is("ACKED"))));
        Event late = frozen.events().stream().filter(e -> e.jobId().equals(id)
                && (e.is("ACK_REFUSED") || e.is("NOT_SENT") || e.is("ACKED"))).findFirst().orElseThrow();
        assertThat(late.type()).as("outcome of the frozen worker's late result: %s", late).isIn("ACK_REFUSED", "NOT_SENT");
        assertThat(frozen.events()).as("the frozen run ended").anyMatch(e -> e.is("END") && e.jobId().equals(id));

        // two deliveries with different tokens; one accepted completion, the other worker's
        Event first = starts(frozen, id).get(0);
        Event second = starts(other, id).get(0);
        assertThat(List.of(first.attempt(), second.attempt())).containsExactly(1, 2);
        assertThat(first.token()).isNotEqualTo(second.token());
        List<Event> accepted = cluster.allEvents().stream().filter(e -> e.is("ACKED") && e.jobId().equals(id))
                .collect(Collectors.toList());
        assertThat(accepted).hasSize(1);
        assertThat(accepted.get(0).token()).isEqualTo(second.token());
        // the broker's record holds the second delivery's token: repeating its ack is ACKED, the first's is refused
        assertThat(ackOutcome(id, second.token())).isEqualTo(AckOutcome.ACK_OUTCOME_ACKED);
        assertThat(ackOutcome(id, first.token())).isEqualTo(AckOutcome.ACK_OUTCOME_LEASE_LOST);
        done = cluster.job(id);
        assertThat(done.getState()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
        assertThat(done.getAttempt()).isEqualTo(2);

        // the frozen worker registers again, with a new session, and works on
        await("the frozen worker registered again").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50))
                .until(() -> registrations(frozen).size() >= 2);
        String newSession = registrations(frozen).get(registrations(frozen).size() - 1);
        assertThat(newSession).isNotEqualTo(firstSession);
        await("ListWorkers shows the frozen worker's new session").atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100)).untilAsserted(() -> assertThat(cluster.listWorkers())
                        .extracting(WorkerInfo::getWorkerId).contains(newSession).doesNotContain(firstSession));

        HoistCluster.signal("TERM", other.pid()); // so that the next jobs can only go to the resumed worker
        assertThat(other.process.waitFor(20, SECONDS)).isTrue();
        List<JobSpec> more = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            more.add(HoistCluster.script(QUEUE, "{}").build());
        }
        List<String> moreIds = cluster.enqueue(more);
        await("new jobs done by the resumed worker").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50))
                .until(() -> frozen.events().stream().filter(e -> e.is("ACKED") && moreIds.contains(e.jobId()))
                        .count() == moreIds.size());
        assertThat(frozen.events()).filteredOn(e -> e.is("START") && moreIds.contains(e.jobId()))
                .extracting(Event::session).containsOnly(newSession);
        System.out.printf("WorkerFreezeIT: the frozen worker's late result: %s; sessions %s -> %s%n",
                late.type(), firstSession, newSession);
    }

    private static List<Event> starts(WorkerProcess w, String jobId) {
        return w.events().stream().filter(e -> e.is("START") && e.jobId().equals(jobId)).collect(Collectors.toList());
    }

    private static List<String> registrations(WorkerProcess w) {
        return w.events().stream().filter(e -> e.is("REGISTERED")).map(Event::session).collect(Collectors.toList());
    }

    private AckOutcome ackOutcome(String jobId, String token) {
        return cluster.workerService().ack(AckRequest.newBuilder().setWorkerId("system-test")
                        .addAcks(JobAck.newBuilder().setJobId(jobId).setLeaseToken(token)).build())
                .getResults(0).getOutcome();
    }
}
