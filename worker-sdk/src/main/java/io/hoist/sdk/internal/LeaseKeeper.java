package io.hoist.sdk.internal;

/** What a running job's context asks of the heartbeats (implemented by {@link Heartbeater}). */
public interface LeaseKeeper {

    /** Heartbeats now, on the caller's thread; true if the broker confirmed that {@code job} is still held. */
    boolean extendNow(RunningJob job);

    /** Asks for a heartbeat soon, without blocking. */
    void beatSoon();
}
