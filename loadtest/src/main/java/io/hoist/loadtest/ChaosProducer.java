package io.hoist.loadtest;

import io.hoist.sdk.Enqueued;
import io.hoist.sdk.HoistClient;
import io.hoist.sdk.HoistException;
import io.hoist.sdk.JobRequest;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One producer of {@code chaos}: a thread that enqueues batches at a steady rate through a
 * {@link HoistClient}, each job with an id of its own choosing ({@code <name>-<n>}), and logs
 * every id the broker acknowledged. A failed batch (the broker was killed) is sent again with the
 * same ids until it is acknowledged: the broker's id dedup makes that safe, so every id sent is
 * either acknowledged in the end or still in doubt when the run stops (counted, never logged).
 */
final class ChaosProducer implements AutoCloseable {
    private static final Duration RETRY_PAUSE = Duration.ofMillis(100);

    private final String name;
    private final String queue;
    private final HoistClient client;
    private final EventLog log;
    private final double batchesPerSecond;
    private final int batch;
    private final byte[] payload;
    private final Duration leaseDuration;
    private final Thread thread;
    private volatile boolean stopping;
    private volatile long giveUpAtNanos = Long.MAX_VALUE;

    final AtomicLong acknowledged = new AtomicLong();
    final AtomicLong failedCalls = new AtomicLong();
    final AtomicLong inDoubt = new AtomicLong();

    ChaosProducer(String name, String target, String queue, Path logFile, double jobsPerSecond, int batch,
                  Duration leaseDuration) {
        this.leaseDuration = leaseDuration;
        this.name = name;
        this.queue = queue;
        this.client = HoistClient.builder().target(target).callTimeout(Duration.ofSeconds(5)).queueFullAttempts(1).build();
        this.log = EventLog.append(logFile);
        this.batch = batch;
        this.batchesPerSecond = jobsPerSecond / batch;
        this.payload = new byte[64];
        this.thread = new Thread(this::run, "chaos-producer-" + name);
    }

    void start() {
        thread.start();
    }

    private void run() {
        long start = System.nanoTime();
        long sent = 0;
        long next = 0;
        while (!stopping) {
            long due = start + (long) (sent * 1e9 / batchesPerSecond);
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
                continue;
            }
            if (-wait > TimeUnit.SECONDS.toNanos(1)) {
                start = System.nanoTime(); // behind by more than a second (the broker was down): no burst to catch up
                sent = 0;
            }
            List<JobRequest> jobs = new ArrayList<>(batch);
            for (int i = 0; i < batch; i++) {
                jobs.add(JobRequest.builder(queue, "chaos").jobId(name + "-" + next++).payloadBytes(payload)
                        .maxAttempts(1_000) // worker kills charge attempts: a job must not die of them
                        .leaseDuration(leaseDuration)
                        .build());
            }
            enqueueUntilAcknowledged(jobs);
            sent++;
        }
    }

    private void enqueueUntilAcknowledged(List<JobRequest> jobs) {
        while (true) {
            try {
                for (Enqueued e : client.enqueueBatch(jobs)) {
                    log.write("ENQUEUED", e.jobId(), e.duplicate() ? "dup" : "-", 0);
                    acknowledged.incrementAndGet();
                }
                return;
            } catch (HoistException e) {
                failedCalls.incrementAndGet();
                if (System.nanoTime() > giveUpAtNanos) {
                    inDoubt.addAndGet(jobs.size()); // maybe stored, never acknowledged: allowed to be anywhere
                    return;
                }
                LockSupport.parkNanos(RETRY_PAUSE.toNanos());
            }
        }
    }

    /** Stops sending new batches; a batch in doubt is retried for up to {@code grace}, then given up. */
    void stop(Duration grace) throws InterruptedException {
        giveUpAtNanos = System.nanoTime() + grace.toNanos();
        stopping = true;
        thread.join(grace.toMillis() + 10_000);
    }

    @Override
    public void close() throws Exception {
        client.close();
        log.close();
    }
}
