package io.hoist.sdk.internal;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What wakes the slots' waiters now that a settled job wakes them only if it frees a slot or leaves none held. */
class RunningJobsTest {

    @Test
    void removingAJobWhoseResultWasNeverSent_freesItsSlot_andWakesTheLeaseLoop() {
        RunningJobs jobs = new RunningJobs(2);
        RunningJob given = job("t1");
        jobs.add(given);
        jobs.add(job("t2")); // still held: the waiter must be woken by the slot, not by an empty set
        CompletableFuture<Integer> free = new CompletableFuture<>();
        Thread leaseLoop = waiting(() -> free.complete(jobs.awaitFreeSlots()));

        jobs.remove(given); // e.g. its lease was lost before a result was sent

        await().atMost(Duration.ofSeconds(5)).until(free::isDone);
        assertThat(free.join()).isEqualTo(1);
        assertThat(leaseLoop.isAlive()).isFalse();
    }

    @Test
    void settlingTheLastJob_wakesAShutdownWaitingForNone() {
        RunningJobs jobs = new RunningJobs(1);
        RunningJob settled = job("t1");
        jobs.add(settled);
        jobs.resultsSent(List.of(settled)); // its slot came back when its ack was sent
        CompletableFuture<Boolean> empty = new CompletableFuture<>();
        waiting(() -> empty.complete(jobs.awaitEmpty(Duration.ofMinutes(1))));

        jobs.remove(settled); // the broker answered the ack

        await().atMost(Duration.ofSeconds(5)).until(empty::isDone);
        assertThat(empty.join()).isTrue();
    }

    private interface Wait {
        void run() throws InterruptedException;
    }

    /** Starts {@code wait} on a thread of its own and returns once that thread is parked in it. */
    private static Thread waiting(Wait wait) {
        Thread t = new Thread(() -> {
            try {
                wait.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t.setDaemon(true);
        t.start();
        await().atMost(Duration.ofSeconds(5)).until(() ->
                t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING);
        return t;
    }

    private static RunningJob job(String token) {
        return RunningJobFixture.delivery("job-" + token, token);
    }
}
