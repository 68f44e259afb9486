package io.hoist.sdk.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

/**
 * A worker's graceful exit, in this order:
 * <ol>
 *   <li>stop leasing (the lease stream is closed: the broker leases no more to it), so no new job starts;</li>
 *   <li>wait up to the grace period for the running jobs to finish and their acks or nacks to be
 *       settled, while heartbeats keep their leases;</li>
 *   <li>past the grace period, interrupt the handlers still running; their results are no
 *       longer sent;</li>
 *   <li>stop heartbeats and the ack sender, then Deregister: the broker puts the jobs still held
 *       back to READY at once, without charging the attempt;</li>
 *   <li>close the channel (unless the application gave it).</li>
 * </ol>
 * An interrupt of the closing thread skips the waiting but still deregisters.
 */
final class ShutdownSequence {
    private static final Logger log = LoggerFactory.getLogger(ShutdownSequence.class);
    private final WorkerRuntime worker;

    ShutdownSequence(WorkerRuntime worker) {
        this.worker = worker;
    }

    void run(Duration grace) {
        boolean interrupted = false;
        String id = worker.session.workerId();
        try {
            log.info("worker={} shutting down: leasing stopped, waiting up to {} ms for {} running jobs", id,
                    grace.toMillis(), worker.jobs.size());
            worker.leaseLoop.stop();
            if (!worker.jobs.awaitEmpty(grace)) {
                abandonRunningJobs(grace);
            }
        } catch (InterruptedException e) {
            interrupted = true;
            abandonRunningJobs(grace);
        }
        worker.dispatcher.shutdown();
        try {
            worker.heartbeater.close();
            worker.acks.close();
        } catch (InterruptedException e) {
            interrupted = true;
        }
        worker.session.deregister();
        worker.connection.close();
        log.info("worker={} stopped", id);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void abandonRunningJobs(Duration grace) {
        List<RunningJob> left = worker.jobs.all();
        log.warn("{} jobs still running after the grace period of {} ms: interrupting their handlers; the broker "
                + "gives them back at Deregister (their attempt not charged)", left.size(), grace.toMillis());
        left.forEach(RunningJob::markLost);
        worker.dispatcher.shutdownNow();
    }
}
