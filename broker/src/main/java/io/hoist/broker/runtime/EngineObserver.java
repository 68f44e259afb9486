package io.hoist.broker.runtime;

import io.hoist.broker.engine.JobEvent;

/**
 * Watches the engine loop, for metrics. Called on the engine thread, and {@link #roundsSynced} on
 * the sync thread: must be quick and never block.
 */
public interface EngineObserver {

    void jobEvent(JobEvent event, String queue, long millis);

    /** A round was written: how many commands it held and how long the write took (without a sync). */
    void roundCommitted(int commands, long writeNanos);

    /** Written rounds were made durable by one fsync, which took this long. */
    default void roundsSynced(long syncNanos) {
    }

    /** Watches nothing. */
    EngineObserver NONE = new EngineObserver() {
        @Override
        public void jobEvent(JobEvent event, String queue, long millis) {
        }

        @Override
        public void roundCommitted(int commands, long writeNanos) {
        }
    };
}
