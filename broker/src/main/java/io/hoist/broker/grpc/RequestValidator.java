package io.hoist.broker.grpc;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.hoist.broker.engine.Command;
import io.hoist.broker.engine.JobSpec;
import io.hoist.broker.engine.RetryPolicy;
import io.hoist.broker.engine.PageKey;
import io.hoist.broker.engine.QueueConfig;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.DeleteDeadRequest;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.ListJobsRequest;
import io.hoist.proto.v1.ListQueuesRequest;
import io.hoist.proto.v1.ListWorkersRequest;
import io.hoist.proto.v1.PurgeQueueRequest;
import io.hoist.proto.v1.RequeueDeadRequest;
import io.hoist.proto.v1.UpdateQueueRequest;
import io.hoist.proto.v1.CancelJobRequest;
import io.hoist.proto.v1.DeregisterRequest;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.GetJobRequest;
import io.hoist.proto.v1.HeartbeatRequest;
import io.hoist.proto.v1.JobAck;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.NackRequest;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.WorkerStreamRequest;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Checks every request field against API.md's rules and turns valid requests into engine
 * commands. A broken rule throws {@link InvalidFieldException} with the field's path, e.g.
 * {@code jobs[1].priority: must be 0-9, got 10}.
 */
final class RequestValidator {
    static final int MAX_NAME_CHARS = 128;
    static final int MAX_LEASE_JOBS = 1_000;
    static final int MAX_ACKS = 1_000;
    static final int MAX_UNIQUE_KEY_CHARS = 1_024;
    static final int MAX_ERROR_CHARS = 4_096;
    static final int MAX_ACTIVE_IDS = 10_000;
    static final int MAX_CANONICAL_NAMES = 10_000;
    /** google.protobuf.Timestamp's range: 0001-01-01 to 9999-12-31. */
    private static final long MIN_SECONDS = -62_135_596_800L;
    private static final long MAX_SECONDS = 253_402_300_799L;
    /** google.protobuf.Duration's range: about 10,000 years. */
    private static final long MAX_DURATION_SECONDS = 315_576_000_000L;

    private final int maxBatch;
    private final int maxPayloadBytes;
    private final Supplier<String> newId;
    private final java.util.concurrent.ConcurrentHashMap<String, String> names = new java.util.concurrent.ConcurrentHashMap<>();

    /** @param newId makes the id of a job whose spec brings none (ULIDs) */
    RequestValidator(int maxBatch, int maxPayloadBytes, Supplier<String> newId) {
        this.maxBatch = maxBatch;
        this.maxPayloadBytes = maxPayloadBytes;
        this.newId = newId;
    }

    Command.Enqueue enqueue(EnqueueRequest req) {
        return enqueue(req.getJobsList());
    }

    Command.Enqueue enqueue(List<io.hoist.proto.v1.JobSpec> jobs) {
        int n = jobs.size();
        if (n == 0 || n > maxBatch) {
            throw new InvalidFieldException("jobs", "must hold 1 to " + maxBatch + " specs, got " + n);
        }
        List<JobSpec> specs = new ArrayList<>(n);
        List<String> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            JobSpec spec = spec(jobs.get(i), "jobs[" + i + "]");
            specs.add(spec);
            ids.add(spec.hasJobId() ? spec.jobId() : newId.get());
        }
        return new Command.Enqueue(specs, ids);
    }

    private JobSpec spec(io.hoist.proto.v1.JobSpec s, String path) {
        name(s.getQueue(), path + ".queue");
        if (!isName(s.getType(), true)) {
            throw new InvalidFieldException(path + ".type",
                    "must be 1-128 chars of [A-Za-z0-9._-:/], got " + quote(s.getType()));
        }
        long size = s.getPayload().size();
        Map<String, String> headers = s.getHeadersCount() == 0 ? Map.of() : Map.copyOf(s.getHeadersMap());
        for (Map.Entry<String, String> h : headers.entrySet()) {
            size += h.getKey().getBytes(StandardCharsets.UTF_8).length + h.getValue().getBytes(StandardCharsets.UTF_8).length;
        }
        if (size > maxPayloadBytes) {
            throw new InvalidFieldException(path + ".payload",
                    "payload plus headers is " + size + " bytes, more than the limit of " + maxPayloadBytes);
        }
        if (s.getPriority() < 0 || s.getPriority() > JobSpec.MAX_PRIORITY) {
            throw new InvalidFieldException(path + ".priority", "must be 0-9, got " + s.getPriority());
        }
        if (s.hasRunAt() && s.hasDelay()) {
            throw new InvalidFieldException(path + ".delay", "set run_at or delay, not both");
        }
        Long runAt = s.hasRunAt() ? timestampMillis(s.getRunAt(), path + ".run_at") : null;
        Long delay = s.hasDelay() ? durationMillis(s.getDelay(), path + ".delay") : null;
        RetryPolicy.Override retry = s.hasRetry() ? retry(s.getRetry(), path + ".retry") : RetryPolicy.Override.NONE;
        Long leaseDuration = s.hasLeaseDuration() ? positive(s.getLeaseDuration(), path + ".lease_duration") : null;
        Long timeout = s.hasTimeout() ? positive(s.getTimeout(), path + ".timeout") : null;
        if (s.getUniqueKey().length() > MAX_UNIQUE_KEY_CHARS) {
            throw new InvalidFieldException(path + ".unique_key",
                    "must be at most " + MAX_UNIQUE_KEY_CHARS + " chars, got " + s.getUniqueKey().length());
        }
        long uniqueFor = s.hasUniqueFor() ? durationMillis(s.getUniqueFor(), path + ".unique_for") : 0;
        if (!s.getJobId().isEmpty() && !isName(s.getJobId(), false)) {
            throw new InvalidFieldException(path + ".job_id",
                    "must be 1-128 chars of [A-Za-z0-9._-], got " + quote(s.getJobId()));
        }
        return new JobSpec(canonical(s.getQueue()), canonical(s.getType()), s.getPayload().toByteArray(), headers,
                s.getPriority(), runAt, delay, retry, leaseDuration, timeout, s.getUniqueKey(), uniqueFor, s.getJobId());
    }

    private static RetryPolicy.Override retry(io.hoist.proto.v1.RetryPolicy r, String path) {
        if (r.hasMaxAttempts() && r.getMaxAttempts() < 1) {
            throw new InvalidFieldException(path + ".max_attempts", "must be at least 1, got " + r.getMaxAttempts());
        }
        if (r.hasMultiplier() && !(r.getMultiplier() >= 1.0 && r.getMultiplier() <= 1_000.0)) {
            throw new InvalidFieldException(path + ".multiplier", "must be 1.0-1000.0, got " + r.getMultiplier());
        }
        if (r.hasJitter() && !(r.getJitter() >= 0.0 && r.getJitter() <= 1.0)) {
            throw new InvalidFieldException(path + ".jitter", "must be 0.0-1.0, got " + r.getJitter());
        }
        return new RetryPolicy.Override(
                r.hasMaxAttempts() ? r.getMaxAttempts() : null,
                r.hasInitialBackoff() ? durationMillis(r.getInitialBackoff(), path + ".initial_backoff") : null,
                r.hasMaxBackoff() ? durationMillis(r.getMaxBackoff(), path + ".max_backoff") : null,
                r.hasMultiplier() ? r.getMultiplier() : null,
                r.hasJitter() ? r.getJitter() : null);
    }

    Command.GetJob getJob(GetJobRequest req) {
        return new Command.GetJob(jobId(req.getJobId(), "job_id"));
    }

    Command.CancelJob cancelJob(CancelJobRequest req) {
        return new Command.CancelJob(jobId(req.getJobId(), "job_id"));
    }

    Command.Register register(RegisterRequest req) {
        if (req.getName().length() > MAX_NAME_CHARS) {
            throw new InvalidFieldException("name", "must be at most " + MAX_NAME_CHARS + " chars, got " + req.getName().length());
        }
        queues(req.getQueuesList(), "queues");
        if (req.getConcurrency() < 0) {
            throw new InvalidFieldException("concurrency", "must be 0 (no limit) or more, got " + req.getConcurrency());
        }
        return new Command.Register(newId.get(), req.getName(), req.getQueuesList(), req.getConcurrency(),
                Map.copyOf(req.getLabelsMap()));
    }

    Command.Heartbeat heartbeat(HeartbeatRequest req) {
        workerId(req.getWorkerId());
        if (req.getActiveJobIdsCount() > MAX_ACTIVE_IDS) {
            throw new InvalidFieldException("active_job_ids",
                    "must list at most " + MAX_ACTIVE_IDS + " ids, got " + req.getActiveJobIdsCount());
        }
        return new Command.Heartbeat(req.getWorkerId(), List.copyOf(req.getActiveJobIdsList()));
    }

    Command.Lease lease(LeaseRequest req, Object ticket) {
        workerId(req.getWorkerId());
        queues(req.getQueuesList(), "queues");
        if (req.getMaxJobs() < 0 || req.getMaxJobs() > MAX_LEASE_JOBS) {
            throw new InvalidFieldException("max_jobs", "must be 0-" + MAX_LEASE_JOBS + ", got " + req.getMaxJobs());
        }
        long wait = req.hasWait() ? durationMillis(req.getWait(), "wait") : 0;
        return new Command.Lease(req.getWorkerId(), List.copyOf(req.getQueuesList()), req.getMaxJobs(), wait, ticket);
    }

    Command.Ack ack(AckRequest req) {
        return ack(req.getWorkerId(), req.getAcksList());
    }

    Command.Ack ack(String workerId, List<JobAck> acks) {
        if (acks.isEmpty() || acks.size() > MAX_ACKS) {
            throw new InvalidFieldException("acks", "must hold 1 to " + MAX_ACKS + " acks, got " + acks.size());
        }
        List<Command.AckItem> items = new ArrayList<>(acks.size());
        for (int i = 0; i < acks.size(); i++) {
            JobAck a = acks.get(i);
            jobId(a.getJobId(), "acks[" + i + "].job_id");
            token(a.getLeaseToken(), "acks[" + i + "].lease_token");
            items.add(new Command.AckItem(a.getJobId(), a.getLeaseToken()));
        }
        return new Command.Ack(workerId, items);
    }

    /** The first message of a WorkerStream names the worker and the queues it leases from. */
    void workerStreamOpen(WorkerStreamRequest first) {
        workerId(first.getWorkerId());
        queues(first.getQueuesList(), "queues");
    }

    /** Credits granted by a WorkerStream message, on top of {@code unused}; answers the new total. */
    int credits(int granted, int unused) {
        if (granted < 0 || granted > MAX_LEASE_JOBS || unused + granted > MAX_LEASE_JOBS) {
            throw new InvalidFieldException("credits", "must be 0-" + MAX_LEASE_JOBS + ", and the stream's unused"
                    + " credits at most " + MAX_LEASE_JOBS + "; got " + granted + " on top of " + unused);
        }
        return unused + granted;
    }

    Command.Nack nack(NackRequest req) {
        jobId(req.getJobId(), "job_id");
        token(req.getLeaseToken(), "lease_token");
        Long retryAfter = req.hasRetryAfter() ? durationMillis(req.getRetryAfter(), "retry_after") : null;
        String error = req.getError().length() > MAX_ERROR_CHARS
                ? req.getError().substring(0, MAX_ERROR_CHARS) + "…" : req.getError();
        return new Command.Nack(req.getWorkerId(), req.getJobId(), req.getLeaseToken(), error,
                req.getNonRetryable(), retryAfter);
    }

    Command.Deregister deregister(DeregisterRequest req) {
        workerId(req.getWorkerId());
        return new Command.Deregister(req.getWorkerId());
    }

    // ------------------------------------------------------------------ AdminService

    static final int DEFAULT_PAGE_SIZE = 100;
    /** One lease a day: anything slower is a pause, not a rate. */
    static final double MIN_RATE = 1.0 / 86_400;
    static final int MAX_PAGE_SIZE = 1_000;

    Command.ListQueues listQueues(ListQueuesRequest req) {
        return new Command.ListQueues();
    }

    Command.UpdateQueue updateQueue(UpdateQueueRequest req) {
        name(req.getName(), "name");
        List<String> paths = new ArrayList<>(req.getUpdateMask().getPathsList());
        for (int i = 0; i < paths.size(); i++) {
            if (!QueueConfig.PATHS.contains(paths.get(i))) {
                throw new InvalidFieldException("update_mask.paths[" + i + "]", "unknown path " + quote(paths.get(i))
                        + "; known: " + String.join(", ", new java.util.TreeSet<>(QueueConfig.PATHS)));
            }
        }
        return new Command.UpdateQueue(req.getName(), queueConfig(req.getConfig(), "config"), paths);
    }

    private static QueueConfig queueConfig(io.hoist.proto.v1.QueueConfig c, String path) {
        if (c.hasRateLimit() && !(c.getRateLimit() == 0 || (c.getRateLimit() >= MIN_RATE && c.getRateLimit() <= 1e9))) {
            throw new InvalidFieldException(path + ".rate_limit",
                    "must be 0 (none) or " + MIN_RATE + " to 1e9 leases per second, got " + c.getRateLimit());
        }
        if (c.hasMaxInFlight() && c.getMaxInFlight() < 0) {
            throw new InvalidFieldException(path + ".max_in_flight", "must be 0 (none) or more, got " + c.getMaxInFlight());
        }
        if (c.hasMaxDepth() && c.getMaxDepth() < 0) {
            throw new InvalidFieldException(path + ".max_depth", "must be 0 (none) or more, got " + c.getMaxDepth());
        }
        return new QueueConfig(
                c.hasPaused() ? c.getPaused() : null,
                c.hasRateLimit() ? c.getRateLimit() : null,
                c.hasMaxInFlight() ? c.getMaxInFlight() : null,
                c.hasMaxDepth() ? c.getMaxDepth() : null,
                c.hasRetry() ? retry(c.getRetry(), path + ".retry") : null,
                c.hasLeaseDuration() ? positive(c.getLeaseDuration(), path + ".lease_duration") : null,
                c.hasTimeout() ? positive(c.getTimeout(), path + ".timeout") : null);
    }

    Command.PurgeQueue purgeQueue(PurgeQueueRequest req) {
        name(req.getName(), "name");
        return new Command.PurgeQueue(req.getName());
    }

    Command.ListJobs listJobs(ListJobsRequest req) {
        name(req.getQueue(), "queue");
        if (req.getPageSize() < 0) {
            throw new InvalidFieldException("page_size", "must not be negative, got " + req.getPageSize());
        }
        if (!req.getPageToken().isEmpty() && !PageKey.isToken(req.getPageToken())) {
            throw new InvalidFieldException("page_token", "is not a token from an earlier ListJobs answer");
        }
        if (req.getStateValue() < 0 || req.getStateValue() > JobState.JOB_STATE_CANCELED_VALUE) {
            throw new InvalidFieldException("state", "unknown job state " + req.getStateValue());
        }
        int size = req.getPageSize() == 0 ? DEFAULT_PAGE_SIZE : Math.min(req.getPageSize(), MAX_PAGE_SIZE);
        io.hoist.broker.engine.JobState state = req.getState() == JobState.JOB_STATE_UNSPECIFIED ? null
                : io.hoist.broker.engine.JobState.values()[req.getStateValue() - 1];
        return new Command.ListJobs(req.getQueue(), state, size, req.getPageToken());
    }

    Command.RequeueDead requeueDead(RequeueDeadRequest req) {
        name(req.getQueue(), "queue");
        jobIds(req.getJobIdsList());
        return new Command.RequeueDead(req.getQueue(), List.copyOf(req.getJobIdsList()));
    }

    Command.DeleteDead deleteDead(DeleteDeadRequest req) {
        name(req.getQueue(), "queue");
        jobIds(req.getJobIdsList());
        return new Command.DeleteDead(req.getQueue(), List.copyOf(req.getJobIdsList()));
    }

    Command.ListWorkers listWorkers(ListWorkersRequest req) {
        return new Command.ListWorkers();
    }

    static java.nio.file.Path checkpointPath(String path) {
        if (path.isEmpty()) {
            throw new InvalidFieldException("path", "must name the directory to write the checkpoint to");
        }
        java.nio.file.Path p;
        try {
            p = java.nio.file.Path.of(path);
        } catch (java.nio.file.InvalidPathException e) {
            throw new InvalidFieldException("path", "is not a path: " + e.getMessage());
        }
        if (!p.isAbsolute()) {
            throw new InvalidFieldException("path", "must be absolute (it is on the broker's machine), got " + quote(path));
        }
        if (java.nio.file.Files.exists(p)) {
            throw new InvalidFieldException("path", "already exists: choose a new directory, got " + quote(path));
        }
        return p;
    }

    private static void jobIds(List<String> ids) {
        for (int i = 0; i < ids.size(); i++) {
            jobId(ids.get(i), "job_ids[" + i + "]");
        }
    }

    // ------------------------------------------------------------------ field rules

    private static void name(String queue, String path) {
        if (!isName(queue, false)) {
            throw new InvalidFieldException(path, "must be 1-128 chars of [A-Za-z0-9._-], got " + quote(queue));
        }
    }

    /**
     * One shared instance per queue or type name, so that a backlog of millions of jobs does not
     * hold millions of copies of a few names. Bounded: past {@link #MAX_CANONICAL_NAMES} distinct
     * names (a client inventing names) the rest are kept as they come.
     */
    private String canonical(String name) {
        String known = names.get(name);
        if (known != null) {
            return known;
        }
        if (names.size() < MAX_CANONICAL_NAMES) {
            known = names.putIfAbsent(name, name);
        }
        return known != null ? known : name;
    }

    /**
     * 1-128 chars of {@code [A-Za-z0-9._-]}, and with {@code type} also {@code :} and {@code /}
     * (a loop, not a regex: it runs for every job enqueued).
     */
    static boolean isName(String s, boolean type) {
        int n = s.length();
        if (n == 0 || n > MAX_NAME_CHARS) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '-' || (type && (c == ':' || c == '/'));
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static void queues(List<String> queues, String path) {
        for (int i = 0; i < queues.size(); i++) {
            name(queues.get(i), path + "[" + i + "]");
        }
    }

    private static String jobId(String id, String path) {
        if (id.isEmpty() || id.length() > MAX_NAME_CHARS) {
            throw new InvalidFieldException(path, "must be 1-128 chars, got " + id.length());
        }
        return id;
    }

    private static void workerId(String id) {
        if (id.isEmpty() || id.length() > MAX_NAME_CHARS) {
            throw new InvalidFieldException("worker_id", "must be the id from Register (1-128 chars), got " + id.length() + " chars");
        }
    }

    private static void token(String token, String path) {
        if (token.isEmpty() || token.length() > MAX_NAME_CHARS) {
            throw new InvalidFieldException(path, "must be the lease token from Lease, got " + token.length() + " chars");
        }
    }

    private static long positive(Duration d, String path) {
        long millis = durationMillis(d, path);
        if (millis <= 0) {
            throw new InvalidFieldException(path, "must be longer than 0");
        }
        return millis;
    }

    static long durationMillis(Duration d, String path) {
        boolean valid = Math.abs(d.getSeconds()) <= MAX_DURATION_SECONDS && Math.abs(d.getNanos()) < 1_000_000_000
                && !(d.getSeconds() > 0 && d.getNanos() < 0) && !(d.getSeconds() < 0 && d.getNanos() > 0);
        if (!valid) {
            throw new InvalidFieldException(path, "is not a valid duration (seconds " + d.getSeconds() + ", nanos " + d.getNanos() + ")");
        }
        if (d.getSeconds() < 0 || d.getNanos() < 0) {
            throw new InvalidFieldException(path, "must not be negative");
        }
        return d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
    }

    private static long timestampMillis(Timestamp t, String path) {
        if (t.getSeconds() < MIN_SECONDS || t.getSeconds() > MAX_SECONDS || t.getNanos() < 0 || t.getNanos() > 999_999_999) {
            throw new InvalidFieldException(path, "is not a valid timestamp (seconds " + t.getSeconds() + ", nanos " + t.getNanos() + ")");
        }
        return t.getSeconds() * 1000 + t.getNanos() / 1_000_000;
    }

    static String quote(String s) {
        // cut between code points: half a surrogate pair is not UTF-8, and the status would not encode
        String shown = s.codePointCount(0, s.length()) > 40 ? s.substring(0, s.offsetByCodePoints(0, 40)) + "…" : s;
        return "\"" + shown + "\"";
    }
}
