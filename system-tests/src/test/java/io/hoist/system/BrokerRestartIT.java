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
import java.util.stream.Collectors;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The broker stopped under load (SIGTERM, and separately {@code kill -9}) and started again on the
 * same data dir and port: the worker JVMs reconnect by themselves, without a restart of their own,
 * and every job still completes.
 */
class BrokerRestartIT {
    private static final String QUEUE = "restart";
    private static final int JOBS = 600;

    @TempDir
    Path tmp;
    @RegisterExtension
    final HoistCluster cluster = new HoistCluster();

    @Test
    @Timeout(value = 90, unit = SECONDS)
    void sigtermThenRestart_workersReconnectAndEveryJobCompletes() throws Exception {
        restartUnderLoad(false);
    }

    @Test
    @Timeout(value = 90, unit = SECONDS)
    void kill9ThenRestart_workersReconnectAndEveryJobCompletes() throws Exception {
        restartUnderLoad(true);
    }

    private void restartUnderLoad(boolean kill9) throws Exception {
        cluster.in(tmp).startBroker("--session-timeout", "10s", "--heartbeat-interval", "1s");
        List<WorkerProcess> workers = new ArrayList<>();
        for (int w = 1; w <= 3; w++) {
            workers.add(cluster.startWorker("w" + w, QUEUE, 4, Duration.ofSeconds(10)));
        }
        List<JobSpec> specs = new ArrayList<>();
        for (int i = 0; i < JOBS; i++) {
            specs.add(HoistCluster.script(QUEUE, "{\"sleepMillis\":" + (20 + i % 5 * 20) + "}").build());
        }
        List<String> ids = cluster.enqueue(specs);
        await("a third of the jobs acked").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                .until(() -> cluster.allEvents().stream().filter(e -> e.is("ACKED")).count() >= JOBS / 3);

        long down = System.nanoTime();
        if (kill9) {
            cluster.broker().kill9();
        } else {
            cluster.broker().stop();
        }
        long downFor = System.nanoTime();
        cluster.restartBroker(); // same data dir, same ports
        long up = System.nanoTime();

        await("all jobs finished").atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(200))
                .ignoreExceptions().until(() -> cluster.drained(QUEUE));
        for (WorkerProcess w : workers) {
            assertThat(w.process.isAlive()).as("%s still running", w).isTrue();
            assertThat(w.events()).as("%s worked again after the restart, by itself", w)
                    .anyMatch(e -> e.is("START") && e.nanos() > up);
        }
        Map<String, Job> jobs = cluster.listJobs(QUEUE);
        assertThat(jobs.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(jobs.values()).allSatisfy(j ->
                assertThat(j.getState()).as("state of %s", j.getId()).isEqualTo(JobState.JOB_STATE_SUCCEEDED));
        List<Event> events = cluster.allEvents();
        assertThat(events.stream().filter(e -> e.is("ACKED")).map(Event::jobId).distinct().count())
                .as("jobs whose ack the workers saw accepted").isEqualTo(JOBS);
        Map<String, Long> runs = events.stream().filter(e -> e.is("START"))
                .collect(Collectors.groupingBy(Event::jobId, Collectors.counting()));
        long runTwice = runs.values().stream().filter(n -> n > 1).count();
        long reRegistered = events.stream().filter(e -> e.is("REGISTERED") && e.nanos() > down).count();
        System.out.printf("BrokerRestartIT(%s): broker down %d ms (stop took %d ms); %d jobs run more than once; "
                        + "%d registrations after the stop%n", kill9 ? "kill -9" : "SIGTERM",
                (up - down) / 1_000_000, (downFor - down) / 1_000_000, runTwice, reRegistered);
    }
}
