package io.hoist.loadtest;

import io.hoist.sdk.JobContext;
import io.hoist.sdk.Worker;
import io.hoist.sdk.WorkerListener;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** W2 through the SDK: {@code consumers} Workers with a no-op handler, {@code inFlight} slots each. */
final class SdkDrainer implements Drainer {
    private final String target;
    private final String queue;
    private final int consumers;
    private final int inFlight;
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    SdkDrainer(String target, String queue, int consumers, int inFlight) {
        this.target = target;
        this.queue = queue;
        this.consumers = consumers;
        this.inFlight = inFlight;
    }

    @Override
    public long acked() {
        return acked.get();
    }

    @Override
    public long refused() {
        return refused.get();
    }

    @Override
    public long run(long jobs, long timeoutNanos) throws InterruptedException {
        CountDownLatch allAcked = new CountDownLatch(1);
        AtomicLong endNanos = new AtomicLong();
        // counted when the broker has accepted the ack, so a job counts once it is really done
        WorkerListener listener = new WorkerListener() {
            @Override
            public void settled(JobContext job, Settlement settlement) {
                if (settlement != Settlement.ACKED) {
                    refused.incrementAndGet();
                } else if (acked.incrementAndGet() == jobs) {
                    endNanos.set(System.nanoTime());
                    allAcked.countDown();
                }
            }
        };
        List<Worker> workers = new ArrayList<>();
        long start = System.nanoTime();
        try {
            for (int i = 0; i < consumers; i++) {
                workers.add(Worker.builder().target(target).queues(queue).concurrency(inFlight)
                        .name("loadtest-drain-" + i).defaultHandler(ctx -> { })
                        .gracePeriod(Duration.ofSeconds(5)).listener(listener).build().start());
            }
            if (!allAcked.await(timeoutNanos, TimeUnit.NANOSECONDS)) endNanos.set(System.nanoTime());
        } finally {
            workers.parallelStream().forEach(Worker::close);
        }
        return endNanos.get() - start;
    }
}
