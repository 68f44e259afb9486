package io.hoist.system;

import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.JobState;
import io.hoist.system.HoistCluster.Event;
import io.hoist.system.HoistCluster.WorkerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code kill -9} of one of three worker JVMs while it holds jobs: once its session times out, each
 * of its jobs is delivered again to another worker (within session timeout + 2 s of the kill), and
 * every job still ends SUCCEEDED.
 */
class WorkerKillIT {
    private static final String QUEUE = "kill";
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(3);

    @TempDir
    Path tmp;
    @RegisterExtension
    final HoistCluster cluster = new HoistCluster();

    @Test
    @Timeout(value = 60, unit = SECONDS)
    void jobsOfAKilledWorkerAreDeliveredAgainWithinTheSessionTimeoutAndNoneIsLost() throws Exception {
        cluster.in(tmp).startBroker("--session-timeout", "3s", "--heartbeat-interval", "1s");
        List<WorkerProcess> workers = new ArrayList<>();
        for (int w = 1; w <= 3; w++) {
            workers.add(cluster.startWorker("w" + w, QUEUE, 4, Duration.ofSeconds(10)));
        }
        // 6 slow jobs on 12 slots: whichever worker dies, the other two have room for its jobs
        List<JobSpec> specs = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            specs.add(HoistCluster.script(QUEUE, "{\"sleepMillis\":3000}").build());
        }
        List<String> ids = cluster.enqueue(specs);
        await("all 6 jobs running").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> cluster.allEvents().stream().filter(e -> e.is("START")).count() == 6);

        WorkerProcess victim = workers.stream()
                .max(Comparator.comparingLong(w -> w.events().stream().filter(e -> e.is("START")).count()))
                .orElseThrow();
        Set<String> held = victim.events().stream().filter(e -> e.is("START")).map(Event::jobId)
                .collect(Collectors.toSet());
        assertThat(held).isNotEmpty();
        long killedAt = System.nanoTime();
        HoistCluster.signal("KILL", victim.pid());
        assertThat(victim.process.waitFor(10, SECONDS)).isTrue();
        assertThat(victim.events()).as("the victim finished nothing before the kill")
                .noneMatch(e -> e.is("END") && held.contains(e.jobId()));

        // redelivered to the survivors, each within session timeout + 2 s of the kill
        long bound = SESSION_TIMEOUT.plusSeconds(2).toNanos();
        await("jobs of " + victim + " delivered again").atMost(SESSION_TIMEOUT.plusSeconds(10))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> redeliveries(held, victim).size() == held.size());
        Map<String, Event> again = redeliveries(held, victim);
        for (Event e : again.values()) {
            assertThat(e.nanos() - killedAt).as("delay from the kill to the new delivery of %s, to %s (ms)",
                    e.jobId(), e.worker()).isLessThanOrEqualTo(bound);
            assertThat(e.attempt()).as("attempt of the new delivery of %s", e.jobId()).isEqualTo(2);
        }

        // no job is lost
        await("all jobs succeeded").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .until(() -> cluster.drained(QUEUE));
        for (String id : ids) {
            Job j = cluster.job(id);
            assertThat(j.getState()).as("state of %s", id).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
            assertThat(j.getAttempt()).as("attempts of %s", id).isEqualTo(held.contains(id) ? 2 : 1);
        }
        List<Event> acked = cluster.allEvents().stream().filter(e -> e.is("ACKED")).collect(Collectors.toList());
        assertThat(acked).extracting(Event::jobId).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(acked).extracting(Event::worker).doesNotContain(victim.name);
        System.out.printf("WorkerKillIT: %s held %d jobs; delivered again after %s ms%n", victim, held.size(),
                again.values().stream().map(e -> (e.nanos() - killedAt) / 1_000_000).sorted().collect(Collectors.toList()));
    }

    /** The first delivery of each held job to another worker than the victim, by job id. */
    private Map<String, Event> redeliveries(Set<String> held, WorkerProcess victim) {
        return cluster.allEvents().stream()
                .filter(e -> e.is("START") && held.contains(e.jobId()) && !e.worker().equals(victim.name))
                .collect(Collectors.toMap(Event::jobId, e -> e, (a, b) -> a));
    }
}
