package io.hoist.broker.engine;

/** A queue's counts and settings at one moment. */
public record QueueInfo(String name, long ready, long scheduled, long leased, long dead, QueueConfig config) {
}
