package io.hoist.loadtest;

import io.hoist.sdk.JobContext;
import io.hoist.sdk.Worker;
import io.hoist.sdk.WorkerListener;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** W2 through the SDK: {@code consumers} Workers with a no-op handler, {@code inFlight} slots each. */
final class SdkDrainer extends Drainer {

    SdkDrainer(String target, String queue, int consumers, int inFlight) {
        super(target, queue, consumers, inFlight);
    }

    @Override
    protected void drain(long jobs, long deadlineNanos) throws InterruptedException {
        // counted when the broker has accepted the ack, so a job counts once it is really done
        WorkerListener listener = new WorkerListener() {
            @Override
            public void settled(JobContext job, Settlement settlement) {
                if (settlement == Settlement.ACKED) {
                    ackAccepted();
                } else {
                    ackRefused();
                }
            }
        };
        List<Worker> workers = new ArrayList<>();
        try {
            for (int i = 0; i < consumers; i++) {
                workers.add(Worker.builder().target(target).queues(queue).concurrency(inFlight)
                        .name("loadtest-drain-" + i).defaultHandler(ctx -> { })
                        .gracePeriod(Duration.ofSeconds(5)).listener(listener).build().start());
            }
            awaitAllAcked(deadlineNanos);
        } finally {
            workers.parallelStream().forEach(Worker::close);
        }
    }
}
