package io.hoist.broker.engine;

import java.util.List;
import java.util.Map;

/**
 * Everything that changes or reads the engine's state. Whatever is not deterministic (new ids,
 * the current time) is decided before a command reaches the engine: ids travel inside the
 * command, the time is the {@code now} of the round that applies it.
 */
public sealed interface Command {

    /** @param newIds one generated id per spec, used when the spec brings none of its own */
    record Enqueue(List<JobSpec> specs, List<String> newIds) implements Command {
    }

    record GetJob(String jobId) implements Command {
    }

    record CancelJob(String jobId) implements Command {
    }

    record Register(String workerId, String name, List<String> queues, int concurrency,
                    Map<String, String> labels) implements Command {
    }

    record Heartbeat(String workerId, List<String> activeJobIds) implements Command {
    }

    /**
     * @param queues   empty means the queues given at Register
     * @param ticket   identifies the caller when the answer comes later (long poll)
     */
    record Lease(String workerId, List<String> queues, int maxJobs, long waitMillis, Object ticket)
            implements Command {
    }

    /** The caller of a parked lease went away, or leases no more: the lease ends empty and takes no jobs. */
    record Unpark(Object ticket) implements Command {
    }

    record Ack(String workerId, List<AckItem> acks) implements Command {
    }

    record AckItem(String jobId, String leaseToken) {
    }

    /** @param retryAfterMillis instead of the policy's backoff, or null */
    record Nack(String workerId, String jobId, String leaseToken, String error,
                boolean nonRetryable, Long retryAfterMillis) implements Command {
    }

    record Deregister(String workerId) implements Command {
    }

    // ------------------------------------------------------------------ operators

    record ListQueues() implements Command {
    }

    /**
     * @param paths the config paths to replace (a named but unset field is cleared); empty means
     *              every field set in {@code patch}
     */
    record UpdateQueue(String name, QueueConfig patch, List<String> paths) implements Command {
    }

    /** Deletes the queue's SCHEDULED and READY jobs. */
    record PurgeQueue(String name) implements Command {
    }

    /**
     * @param state     null = every state
     * @param pageToken empty for the first page, else the previous page's next token
     */
    record ListJobs(String queue, JobState state, int pageSize, String pageToken) implements Command {
    }

    /** @param jobIds empty = every DEAD job of the queue */
    record RequeueDead(String queue, List<String> jobIds) implements Command {
    }

    /** @param jobIds empty = every DEAD job of the queue */
    record DeleteDead(String queue, List<String> jobIds) implements Command {
    }

    record ListWorkers() implements Command {
    }

    /** Time-driven work that is due: delayed jobs, lease and session expiry, retention. */
    record Tick() implements Command {
    }

    /** The broker is shutting down: parked leases answer, heartbeats ask workers to stop. */
    record Shutdown() implements Command {
    }
}
