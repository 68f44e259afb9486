package io.hoist.broker.engine;

/** One failed attempt, as the worker (or the broker, for a lost lease) described it. */
public record JobError(int attempt, String message, long atMillis) {
}
