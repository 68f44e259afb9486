package io.hoist.sdk;

import io.hoist.proto.v1.WorkerInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The worker recovers by itself: from a lost session, and from a broker restart. */
class WorkerRecoveryTest {
    private static final Duration BOUND = Duration.ofSeconds(30);

    @TempDir
    Path dataDir;
    TestBroker broker;
    HoistClient client;
    Worker worker;

    @AfterEach
    void stop() {
        if (worker != null) {
            worker.close();
        }
        client.close();
        broker.close();
    }

    @Test
    void lostSession_workerRegistersAgain_lostRunIsNotCounted_andWorkGoesOn() throws Exception {
        broker = TestBroker.start(dataDir, Duration.ofSeconds(1), Duration.ofMillis(300));
        client = broker.client();
        CountDownLatch firstRunStarted = new CountDownLatch(1);
        CountDownLatch releaseFirstRun = new CountDownLatch(1);
        AtomicReference<JobContext> firstRun = new AtomicReference<>();
        Set<String> done = ConcurrentHashMap.newKeySet();
        worker = Worker.builder().target(broker.target()).queues("q").concurrency(2)
                .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .handle("slow-once", ctx -> {
                    if (ctx.attempt() == 1) {
                        firstRun.set(ctx);
                        firstRunStarted.countDown();
                        releaseFirstRun.await(); // a frozen run: it outlives its session
                    }
                })
                .handle("quick", ctx -> done.add(ctx.id()))
                .build().start();
        String slow = client.enqueue("q", "slow-once", "x").jobId();
        await().atMost(BOUND).until(() -> firstRunStarted.getCount() == 0);
        String firstSession = worker.workerId();

        worker.suspendHeartbeats(true); // as if the process froze: the broker expires the session

        // the worker notices (its parked Lease answers NOT_FOUND), registers again, and is given the job again
        await().atMost(BOUND).ignoreExceptions().until(() -> {
            JobInfo j = client.getJob(slow);
            return j.state() == JobState.SUCCEEDED && j.attempt() == 2;
        });
        assertThat(worker.workerId()).isNotNull().isNotEqualTo(firstSession);
        assertThat(firstRun.get().isLeaseLost()).isTrue();

        worker.suspendHeartbeats(false);
        releaseFirstRun.countDown(); // the late result of the lost run is not sent
        List<String> more = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            more.add(client.enqueue("q", "quick", i).jobId());
        }
        await().atMost(BOUND).until(() -> done.containsAll(more));
        await().atMost(BOUND).ignoreExceptions().until(() -> worker.runningJobs() == 0);
        assertThat(more).allSatisfy(id -> assertThat(client.getJob(id).state()).isEqualTo(JobState.SUCCEEDED));
        JobInfo job = client.getJob(slow);
        assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(job.attempt()).isEqualTo(2);
        assertThat(broker.workers()).extracting(WorkerInfo::getWorkerId).containsExactly(worker.workerId());
    }

    @Test
    void brokerRestart_workerReconnects_keepsItsResultsUntilSent_andEveryJobCompletes() throws Exception {
        broker = TestBroker.start(dataDir, Duration.ofSeconds(5), Duration.ofMillis(250));
        client = broker.client();
        Semaphore gate = new Semaphore(0);
        Map<String, Integer> runs = new ConcurrentHashMap<>();
        worker = Worker.builder().target(broker.target()).queues("q").concurrency(4)
                .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .handle("step", ctx -> {
                    gate.acquire();
                    runs.merge(ctx.id(), 1, Integer::sum);
                })
                .build().start();
        List<String> ids = new ArrayList<>();
        for (int batch = 0; batch < 2; batch++) {
            List<JobRequest> requests = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                requests.add(JobRequest.of("q", "step", batch * 100 + i));
            }
            client.enqueueBatch(requests).forEach(e -> ids.add(e.jobId()));
        }
        gate.release(50);
        await().atMost(BOUND).until(() -> runs.size() == 50 && worker.runningJobs() == 4);

        broker.stop(); // four handlers hold jobs across the outage
        gate.release(4);
        await().atMost(BOUND).until(() -> runs.size() == 54);
        // their acks cannot be sent: they are kept (and retried), not dropped
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> worker.runningJobs() == 4);
        broker.startAgain();

        gate.release(1_000);
        await().atMost(BOUND).ignoreExceptions()
                .until(() -> broker.count("q", io.hoist.proto.v1.JobState.JOB_STATE_SUCCEEDED) == 200);
        assertThat(runs.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(worker.isRunning()).isTrue();

        String after = client.enqueue("q", "step", "after the restart").jobId();
        await().atMost(BOUND).ignoreExceptions().until(() -> client.getJob(after).state() == JobState.SUCCEEDED);
    }
}
