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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SIGTERM to a worker JVM with running jobs (its shutdown hook calls {@code Worker.close()}): it
 * starts nothing new, its running jobs finish and are acked within the grace period, it exits, and
 * no job is delivered twice — the jobs it never started go to the next worker.
 */
class WorkerSigtermIT {
    private static final String QUEUE = "sigterm";
    private static final Duration GRACE = Duration.ofSeconds(8);

    @TempDir
    Path tmp;
    @RegisterExtension
    final HoistCluster cluster = new HoistCluster();

    @Test
    @Timeout(value = 60, unit = SECONDS)
    void runningJobsFinishAndAreAckedWithinTheGracePeriodAndNoneRunsTwice() throws Exception {
        cluster.in(tmp).startBroker("--session-timeout", "3s", "--heartbeat-interval", "1s");
        WorkerProcess draining = cluster.startWorker("draining", QUEUE, 4, GRACE);
        List<JobSpec> specs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            specs.add(HoistCluster.script(QUEUE, "{\"sleepMillis\":2500}").build());
        }
        List<String> ids = cluster.enqueue(specs);
        await("4 jobs running").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> draining.events().stream().filter(e -> e.is("START")).count() == 4);

        long termAt = System.nanoTime();
        HoistCluster.signal("TERM", draining.pid());
        assertThat(draining.process.waitFor(GRACE.toSeconds() + 10, SECONDS)).as("the worker exits").isTrue();
        long exitedAt = System.nanoTime();

        List<Event> ev = draining.events();
        Set<String> running = ev.stream().filter(e -> e.is("START")).map(Event::jobId).collect(Collectors.toSet());
        assertThat(running).hasSize(4);
        for (String id : running) {
            Event acked = ev.stream().filter(e -> e.is("ACKED") && e.jobId().equals(id)).findFirst()
                    .orElseThrow(() -> new AssertionError("running job " + id + " not acked before the exit"));
            assertThat(acked.nanos() - termAt).as("ack of %s after SIGTERM (ns), grace %s", id, GRACE)
                    .isBetween(0L, GRACE.toNanos());
        }
        Event stopped = ev.stream().filter(e -> e.is("STOPPED")).findFirst()
                .orElseThrow(() -> new AssertionError("close() did not return before the exit"));
        assertThat(stopped.nanos() - termAt).as("close() returned within the grace period").isLessThan(GRACE.toNanos());
        assertThat(ev).as("nothing starts after SIGTERM").noneMatch(e -> e.is("START") && e.nanos() > termAt);
        for (String id : running) {
            Job j = cluster.job(id);
            assertThat(j.getState()).as("state of %s", id).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
            assertThat(j.getAttempt()).isEqualTo(1);
        }
        assertThat(cluster.listWorkers()).as("the worker deregistered").isEmpty();

        // the jobs it never started are the next worker's, run once each
        WorkerProcess next = cluster.startWorker("next", QUEUE, 6, GRACE);
        await("all jobs finished").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .until(() -> cluster.drained(QUEUE));
        Map<String, List<Event>> starts = cluster.allEvents().stream().filter(e -> e.is("START"))
                .collect(Collectors.groupingBy(Event::jobId));
        assertThat(starts.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(starts).allSatisfy((id, s) -> assertThat(s).as("handler runs of %s", id).hasSize(1));
        for (String id : ids) {
            Job j = cluster.job(id);
            assertThat(j.getState()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
            assertThat(j.getAttempt()).as("attempts of %s", id).isEqualTo(1);
        }
        assertThat(next.events()).filteredOn(e -> e.is("START")).hasSize(ids.size() - 4);
        System.out.printf("WorkerSigtermIT: worker exited %d ms after SIGTERM, exit code %d%n",
                (exitedAt - termAt) / 1_000_000, draining.process.exitValue());
    }
}
