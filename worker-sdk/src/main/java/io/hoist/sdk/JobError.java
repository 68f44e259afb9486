package io.hoist.sdk;

import java.time.Instant;

/** One failed attempt, as the broker recorded it. */
public record JobError(int attempt, String message, Instant at) {
}
