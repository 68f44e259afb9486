package io.hoist.system;

import io.hoist.proto.v1.DeadReason;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobError;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.RetryPolicy;
import io.hoist.system.HoistCluster.Event;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three worker JVMs and one broker process run 10,000 jobs whose handlers succeed, fail N times
 * then succeed, or always fail, under a short per-job retry policy: every job ends as its script
 * says, with the attempts the policy allows, and every retry waited a backoff within the jitter
 * bounds.
 */
class RetriesAcrossWorkersIT {
    private static final String QUEUE = "retries";
    private static final int JOBS = 10_000;
    private static final int MAX_ATTEMPTS = 4;
    private static final long INITIAL_MS = 50;
    private static final long MAX_MS = 400;
    private static final double MULTIPLIER = 2.0;
    private static final double JITTER = 0.5;
    /** Scheduling slack allowed past the policy's longest backoff: broker tick, lease round trip, JVM pauses. */
    private static final long UPPER_SLACK_MS = 250;
    /** No retry may come later than this past the policy's lower bound, even in the tail. */
    private static final long LATE_MS = 2_000;
    /** Enqueue the next batch once READY is down to this: a retry that comes due waits behind few fresh jobs. */
    private static final int BATCH = 100;
    private static final int LOW_WATER = 20;
    /** Jobs run (and not checked) before the measured ones, so that JIT warm-up does not count as backoff. */
    private static final int WARM_UP = 1_000;

    @TempDir
    Path tmp;
    @RegisterExtension
    final HoistCluster cluster = new HoistCluster();

    /** What job {@code i} does: 60% succeed at once, 10% each fail 1, 2 or 3 times, 10% always fail. */
    private static int failTimes(int i) {
        return switch (i % 10) {
            case 6 -> 1;
            case 7 -> 2;
            case 8 -> 3;
            case 9 -> Integer.MAX_VALUE; // always
            default -> 0;
        };
    }

    @Test
    @Timeout(value = 150, unit = SECONDS)
    void everyJobEndsAsScriptedWithTheAttemptsAndBackoffsOfItsPolicy() throws Exception {
        cluster.in(tmp).startBroker("--fsync", "interval");
        for (int w = 1; w <= 3; w++) {
            cluster.startWorker("w" + w, QUEUE, 16, Duration.ofSeconds(10));
        }
        RetryPolicy policy = RetryPolicy.newBuilder().setMaxAttempts(MAX_ATTEMPTS)
                .setInitialBackoff(millis(INITIAL_MS)).setMaxBackoff(millis(MAX_MS))
                .setMultiplier(MULTIPLIER).setJitter(JITTER).build();

        List<JobSpec> warmUp = new ArrayList<>();
        for (int i = 0; i < WARM_UP; i++) {
            warmUp.add(HoistCluster.script(QUEUE, i % 4 == 0 ? "{\"failTimes\":1}" : "{}").setRetry(policy)
                    .putHeaders("warm-up", "true").build());
        }
        java.util.Set<String> warmUpIds = new java.util.HashSet<>(cluster.enqueue(warmUp));
        await("warm-up jobs finished").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> cluster.drained(QUEUE));

        long started = System.nanoTime();
        Map<String, Integer> scripted = new HashMap<>(); // job id -> fail times
        for (int from = 0; from < JOBS; from += BATCH) {
            List<JobSpec> specs = new ArrayList<>();
            for (int i = from; i < from + BATCH; i++) {
                int n = failTimes(i);
                String json = n == Integer.MAX_VALUE ? "{\"alwaysFail\":true}" : "{\"failTimes\":" + n + "}";
                specs.add(HoistCluster.script(QUEUE, json).setRetry(policy).putHeaders("i", Integer.toString(i)).build());
            }
            List<String> ids = cluster.enqueue(specs);
            for (int k = 0; k < ids.size(); k++) {
                scripted.put(ids.get(k), failTimes(from + k));
            }
            await("READY down to " + LOW_WATER).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                    .until(() -> cluster.queue(QUEUE).orElseThrow().getReady() <= LOW_WATER);
        }
        await("all jobs finished").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> cluster.drained(QUEUE));
        long took = System.nanoTime() - started;

        // the broker's record: every job ended as its script says, after the attempts the policy allows
        Map<String, Job> jobs = cluster.listJobs(QUEUE);
        assertThat(jobs.keySet()).containsAll(warmUpIds);
        jobs.keySet().removeAll(warmUpIds);
        assertThat(jobs).hasSize(JOBS);
        assertThat(jobs.keySet()).containsExactlyInAnyOrderElementsOf(scripted.keySet());
        for (Job j : jobs.values()) {
            int n = scripted.get(j.getId());
            if (n == Integer.MAX_VALUE) {
                assertThat(j.getState()).as("state of always-failing %s", j.getId()).isEqualTo(JobState.JOB_STATE_DEAD);
                assertThat(j.getDeadReason()).isEqualTo(DeadReason.DEAD_REASON_ATTEMPTS_EXHAUSTED);
                assertThat(j.getAttempt()).as("attempts of %s", j.getId()).isEqualTo(MAX_ATTEMPTS);
                assertThat(j.getErrorsList()).extracting(JobError::getAttempt).containsExactly(1, 2, 3, 4);
            } else {
                assertThat(j.getState()).as("state of %s, scripted to fail %d times", j.getId(), n)
                        .isEqualTo(JobState.JOB_STATE_SUCCEEDED);
                assertThat(j.getAttempt()).as("attempts of %s", j.getId()).isEqualTo(n + 1);
                assertThat(j.getErrorsList()).as("errors of %s", j.getId()).hasSize(n);
            }
        }

        // the workers' record: one handler run per attempt, each settled once
        List<Event> events = cluster.allEvents().stream().filter(e -> !warmUpIds.contains(e.jobId()))
                .collect(Collectors.toList());
        Map<String, List<Event>> starts = events.stream().filter(e -> e.is("START"))
                .collect(Collectors.groupingBy(Event::jobId));
        Map<String, Long> perWorker = events.stream().filter(e -> e.is("START"))
                .collect(Collectors.groupingBy(Event::worker, Collectors.counting()));
        assertThat(perWorker).as("handler runs per worker").containsOnlyKeys("w1", "w2", "w3");
        assertThat(events.stream().filter(e -> e.is("ACK_REFUSED") || e.is("NACK_REFUSED") || e.is("NOT_SENT")))
                .as("refused or unsent results").isEmpty();
        for (Job j : jobs.values()) {
            List<Event> runs = starts.getOrDefault(j.getId(), List.of());
            assertThat(runs).as("handler runs of %s", j.getId()).extracting(Event::attempt)
                    .containsExactlyElementsOf(range(1, j.getAttempt()));
        }
        assertThat(events.stream().filter(e -> e.is("ACKED")).count()).isEqualTo(
                jobs.values().stream().filter(j -> j.getState() == JobState.JOB_STATE_SUCCEEDED).count());

        // backoff: from the broker's record of failure n (errors[].at) to the start of attempt n+1
        List<Long> slack = new ArrayList<>();
        List<String> outOfBounds = new ArrayList<>();
        List<String> early = new ArrayList<>();
        int retries = 0;
        for (Job j : jobs.values()) {
            List<Event> runs = starts.get(j.getId());
            for (JobError err : j.getErrorsList()) {
                int n = err.getAttempt();
                if (n >= j.getAttempt()) {
                    continue; // the last failure of a DEAD job: no retry
                }
                Event next = runs.get(n); // attempt n + 1
                long failedAt = err.getAt().getSeconds() * 1_000 + err.getAt().getNanos() / 1_000_000;
                long waited = next.wallMillis() - failedAt;
                double base = Math.min(MAX_MS, INITIAL_MS * Math.pow(MULTIPLIER, n - 1));
                long lower = (long) Math.floor(base * (1 - JITTER));
                if (waited < lower - 1) {
                    early.add(j.getId() + " waited " + waited + " ms before attempt " + (n + 1) + ", policy's least "
                            + lower + " ms");
                }
                if (waited > (long) base + UPPER_SLACK_MS) {
                    outOfBounds.add(String.format("%s (i=%s) waited %d ms before attempt %d (policy: %d..%d ms), "
                                    + "failed at %d, next start %s", j.getId(), j.getSpec().getHeadersMap().get("i"),
                            waited, n + 1, lower, (long) base, failedAt, next));
                }
                slack.add(waited - lower);
                retries++;
            }
        }
        assertThat(retries).isEqualTo(1_000 + 2_000 + 3_000 + 3 * 1_000);
        slack.sort(Comparator.naturalOrder());
        System.out.printf("RetriesAcrossWorkersIT: %d jobs, %d retries in %d ms; handler runs per worker %s; "
                        + "backoff past its lower bound: median %d ms, p99 %d ms, max %d ms; %d past upper bound + %d ms%n", JOBS, retries,
                took / 1_000_000, perWorker, slack.get(slack.size() / 2), slack.get(slack.size() * 99 / 100),
                slack.get(slack.size() - 1), outOfBounds.size(), UPPER_SLACK_MS);
        assertThat(early).as("retries sooner than the policy's shortest backoff (jitter only shortens by up to %s)",
                JITTER).isEmpty();
        // the upper side measures the broker's timer plus a lease round trip on a loaded 2-core machine (5 JVMs):
        // all but a 1% tail within the policy's longest backoff + UPPER_SLACK_MS, none later than + LATE_MS
        assertThat(outOfBounds.size()).as("retries later than the policy's longest backoff + %d ms: %s",
                UPPER_SLACK_MS, outOfBounds.subList(0, Math.min(20, outOfBounds.size()))).isLessThanOrEqualTo(retries / 100);
        assertThat(slack.get(slack.size() - 1)).as("longest backoff past the policy's lower bound (ms)")
                .isLessThanOrEqualTo(LATE_MS);
    }

    private static List<Integer> range(int from, int to) {
        List<Integer> r = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            r.add(i);
        }
        return r;
    }

    private static com.google.protobuf.Duration millis(long ms) {
        return com.google.protobuf.Duration.newBuilder().setSeconds(ms / 1_000).setNanos((int) (ms % 1_000) * 1_000_000).build();
    }
}
