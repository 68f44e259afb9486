package io.hoist.sdk;

/**
 * The broker's answer for one enqueued job.
 *
 * @param duplicate true when an existing job with the same {@code jobId} or unique key was
 *                  returned instead of storing a new one
 * @param state     the state of the stored (or existing) job
 */
public record Enqueued(String jobId, boolean duplicate, JobState state) {
}
