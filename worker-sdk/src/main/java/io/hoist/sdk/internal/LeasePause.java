package io.hoist.sdk.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Set while the broker asks this worker to stop leasing (heartbeat {@code shutdown_requested}:
 * the broker is shutting down, or an operator drains the worker). Running jobs go on and are
 * acked; leasing resumes when a heartbeat no longer asks (e.g. the broker came back). The
 * heartbeat thread sets it; the lease loop waits on it. Thread-safe.
 */
public final class LeasePause {
    private static final Logger log = LoggerFactory.getLogger(LeasePause.class);
    private boolean paused; // guarded by this

    public synchronized void set(boolean askedToStop) {
        if (askedToStop != paused) {
            paused = askedToStop;
            if (askedToStop) {
                log.info("the broker asks this worker to stop leasing (it is shutting down, or draining this "
                        + "worker): running jobs finish; leasing resumes if it stops asking");
            } else {
                log.info("the broker no longer asks this worker to stop: leasing again");
            }
            notifyAll();
        }
    }

    public synchronized boolean isPaused() {
        return paused;
    }

    /** Blocks while paused. */
    public synchronized void awaitResumed() throws InterruptedException {
        while (paused) {
            wait();
        }
    }
}
