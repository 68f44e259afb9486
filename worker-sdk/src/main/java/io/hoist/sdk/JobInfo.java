package io.hoist.sdk;

import io.hoist.proto.v1.Job;
import io.hoist.sdk.internal.ProtoMapper;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** A job as the broker reports it ({@link HoistClient#getJob(String)}). Immutable. */
public final class JobInfo {
    private final Job job;
    private final PayloadCodec codec;

    /** Wraps the broker's record; {@code codec} decodes {@link #payload(Class)}. */
    public JobInfo(Job job, PayloadCodec codec) {
        this.job = Objects.requireNonNull(job, "job");
        this.codec = Objects.requireNonNull(codec, "codec");
    }

    public String id() {
        return job.getId();
    }

    public String queue() {
        return job.getSpec().getQueue();
    }

    public String type() {
        return job.getSpec().getType();
    }

    public JobState state() {
        return ProtoMapper.state(job.getState());
    }

    /** Deliveries charged against the retry policy's {@code maxAttempts} so far. */
    public int attempt() {
        return job.getAttempt();
    }

    public int priority() {
        return job.getSpec().getPriority();
    }

    public Map<String, String> headers() {
        return job.getSpec().getHeadersMap();
    }

    /** The payload's bytes (a copy). */
    public byte[] payload() {
        return job.getSpec().getPayload().toByteArray();
    }

    /** The payload decoded by the client's codec. */
    public <T> T payload(Class<T> type) {
        return codec.decode(payload(), type);
    }

    /** The message of the last failure, or empty. */
    public String lastError() {
        return job.getLastError();
    }

    /** The last failures (up to 10), oldest first. */
    public List<JobError> errors() {
        return job.getErrorsList().stream()
                .map(e -> new JobError(e.getAttempt(), e.getMessage(), ProtoMapper.instant(e.getAt())))
                .toList();
    }

    /** Why the job is DEAD; {@link DeadReason#NONE} otherwise. */
    public DeadReason deadReason() {
        return ProtoMapper.deadReason(job.getDeadReason());
    }

    /** A cancel was asked while the job was LEASED; its worker has been (or will be) told. */
    public boolean cancelRequested() {
        return job.getCancelRequested();
    }

    /** The worker holding the job while it is LEASED, or empty. */
    public String workerId() {
        return job.getWorkerId();
    }

    public Instant createdAt() {
        return ProtoMapper.instant(job.getCreatedAt());
    }

    /** The next time the job may run. */
    public Optional<Instant> runAt() {
        return job.hasRunAt() ? Optional.of(ProtoMapper.instant(job.getRunAt())) : Optional.empty();
    }

    public Optional<Instant> finishedAt() {
        return job.hasFinishedAt() ? Optional.of(ProtoMapper.instant(job.getFinishedAt())) : Optional.empty();
    }

    /** The broker's full record, for fields this class does not surface. */
    public Job toProto() {
        return job;
    }

    @Override
    public String toString() {
        return "JobInfo{id=" + id() + ", queue=" + queue() + ", type=" + type() + ", state=" + state()
                + ", attempt=" + attempt() + (job.getLastError().isEmpty() ? "" : ", lastError=" + lastError()) + "}";
    }
}
