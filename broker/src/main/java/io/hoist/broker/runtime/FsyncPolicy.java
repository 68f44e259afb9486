package io.hoist.broker.runtime;

/** When a committed round is forced to disk. */
public enum FsyncPolicy {
    /** Every round is synced before anyone is answered: an acknowledged job survives a power cut. */
    ALWAYS,
    /** Synced at most every interval: an acknowledged job survives a process crash, not a power cut. */
    INTERVAL,
    /** Never forced: the operating system writes when it likes. */
    NEVER
}
