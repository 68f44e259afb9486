package io.hoist.loadtest;

import io.hoist.sdk.JobContext;
import io.hoist.sdk.Worker;
import io.hoist.sdk.WorkerListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One worker JVM of {@code chaos}: an SDK {@link Worker} whose handler logs each delivery and
 * works a little, and whose listener logs what became of each result. SIGTERM closes the Worker
 * (drain, deregister); {@code kill -9} is what the checker is for.
 */
@Command(name = "chaos-worker", hidden = true, description = "A worker process of the chaos scenario (started by it).")
final class ChaosWorkerCommand implements Callable<Integer> {

    @Option(names = "--broker", required = true)
    String broker;

    @Option(names = "--queue", required = true)
    String queue;

    @Option(names = "--name", required = true)
    String name;

    @Option(names = "--log", required = true)
    Path log;

    @Option(names = "--concurrency", defaultValue = "8")
    int concurrency;

    @Option(names = "--work-ms", defaultValue = "10", description = "each job sleeps a random 0..N ms")
    int workMillis;

    @Override
    public Integer call() throws Exception {
        EventLog events = EventLog.append(log);
        Worker worker = Worker.builder()
                .target(broker)
                .queues(queue)
                .concurrency(concurrency)
                .name(name)
                .gracePeriod(Duration.ofSeconds(10))
                .callTimeout(Duration.ofSeconds(5))
                .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .defaultHandler(ctx -> work(ctx, events))
                .listener(listener(events))
                .build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            worker.close(); // SIGTERM: finish running jobs, deregister
            events.write("STOPPED", "-", "-", 0);
            stopped.countDown();
        }, "chaos-worker-shutdown"));
        worker.start();
        stopped.await(); // the shutdown hook ends the process
        return 0;
    }

    private void work(JobContext ctx, EventLog events) throws InterruptedException {
        events.write("RECEIVED", ctx.id(), ctx.leaseToken(), ctx.attempt());
        if (workMillis > 0) {
            Thread.sleep(ThreadLocalRandom.current().nextInt(workMillis + 1)); // the job's "work"
        }
    }

    private static WorkerListener listener(EventLog events) {
        return new WorkerListener() {
            @Override
            public void registered(String workerId) {
                events.write("REGISTERED", workerId, "-", 0);
            }

            @Override
            public void settled(JobContext job, Settlement settlement) {
                events.write(settlement.name(), job.id(), job.leaseToken(), job.attempt());
            }
        };
    }
}
