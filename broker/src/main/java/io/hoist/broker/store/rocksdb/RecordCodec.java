package io.hoist.broker.store.rocksdb;

import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.InvalidProtocolBufferException;
import io.hoist.broker.engine.DeadReason;
import io.hoist.broker.engine.Job;
import io.hoist.broker.engine.JobError;
import io.hoist.broker.engine.JobSpec;
import io.hoist.broker.engine.JobState;
import io.hoist.broker.engine.QueueConfig;
import io.hoist.broker.engine.RetryPolicy;
import io.hoist.broker.engine.Session;
import io.hoist.broker.engine.UniqueHold;
import io.hoist.broker.store.rocksdb.records.ErrorRecord;
import io.hoist.broker.store.rocksdb.records.JobRecord;
import io.hoist.broker.store.rocksdb.records.QueueRecord;
import io.hoist.broker.store.rocksdb.records.SessionRecord;
import io.hoist.broker.store.rocksdb.records.UniqueRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Engine records to and from the bytes stored in RocksDB (records.proto). */
final class RecordCodec {
    private static final JobState[] STATES = JobState.values();
    private static final DeadReason[] DEAD_REASONS = DeadReason.values();

    private RecordCodec() {
    }

    /** The whole record, written when a job is created. */
    static byte[] encodeJob(Job job) {
        JobSpec spec = job.spec();
        JobRecord.Builder b = JobRecord.newBuilder()
                .setId(job.id())
                .setQueue(spec.queue())
                .setType(spec.type())
                .setPayload(UnsafeByteOperations.unsafeWrap(spec.payload())) // no copy: a JobSpec's payload is never written
                .setPriority(spec.priority())
                .setUniqueKey(spec.uniqueKey())
                .setUniqueFor(spec.uniqueForMillis())
                .setSpecJobId(spec.jobId());
        if (!spec.headers().isEmpty()) b.putAllHeaders(spec.headers()); // putAll makes a map even when empty
        if (spec.runAtMillis() != null) b.setSpecRunAt(spec.runAtMillis());
        if (spec.delayMillis() != null) b.setSpecDelay(spec.delayMillis());
        if (spec.leaseDurationMillis() != null) b.setSpecLeaseDuration(spec.leaseDurationMillis());
        if (spec.timeoutMillis() != null) b.setSpecTimeout(spec.timeoutMillis());
        RetryPolicy.Override o = spec.retry();
        if (o != null) {
            if (o.maxAttempts() != null) b.setSpecMaxAttempts(o.maxAttempts());
            if (o.initialBackoffMillis() != null) b.setSpecInitialBackoff(o.initialBackoffMillis());
            if (o.maxBackoffMillis() != null) b.setSpecMaxBackoff(o.maxBackoffMillis());
            if (o.multiplier() != null) b.setSpecMultiplier(o.multiplier());
            if (o.jitter() != null) b.setSpecJitter(o.jitter());
        }
        RetryPolicy r = job.retry();
        b.setMaxAttempts(r.maxAttempts())
                .setInitialBackoff(r.initialBackoffMillis())
                .setMaxBackoff(r.maxBackoffMillis())
                .setMultiplier(r.multiplier())
                .setJitter(r.jitter())
                .setLeaseDuration(job.leaseDurationMillis())
                .setTimeout(job.timeoutMillis())
                .setCreatedAt(job.createdAtMillis());
        return putLife(b, job).build().toByteArray();
    }

    /**
     * Only the job's life so far (the fields from {@code state} on), written at every change after
     * its creation: a JobRecord with nothing else set, whose fields replace the created record's.
     */
    static byte[] encodeJobLife(Job job) {
        return putLife(JobRecord.newBuilder(), job).build().toByteArray();
    }

    private static JobRecord.Builder putLife(JobRecord.Builder b, Job job) {
        b.setState(job.state().ordinal())
                .setAttempt(job.attempt())
                .setRunAt(job.runAtMillis())
                .setFinishedAt(job.finishedAtMillis())
                .setLastError(job.lastError())
                .setWorkerId(job.workerId())
                .setCancelRequested(job.cancelRequested())
                .setDeadReason(job.deadReason().ordinal())
                .setLeaseToken(job.leaseToken())
                .setLeaseDeadline(job.leaseDeadlineMillis())
                .setAttemptDeadline(job.attemptDeadlineMillis())
                .setOrder(job.order());
        for (JobError e : job.errors()) {
            b.addErrors(ErrorRecord.newBuilder().setAttempt(e.attempt()).setMessage(e.message()).setAt(e.atMillis()));
        }
        return b;
    }

    /** Hands out one shared instance per equal value: millions of jobs share a few names and policies. */
    interface Shared {
        /** Shares nothing: for a job read once and soon dropped. */
        Shared NONE = new Shared() {
            @Override
            public <T> T of(T value) {
                return value;
            }
        };

        <T> T of(T value);
    }

    /**
     * @param life the job's life record ({@link #encodeJobLife}), or null when the job has not
     *             changed since it was created (or the store predates life records)
     */
    static Job decodeJob(byte[] created, byte[] life, Shared shared) throws InvalidProtocolBufferException {
        JobRecord r = JobRecord.parseFrom(created);
        JobRecord l = life == null ? r : JobRecord.parseFrom(life);
        RetryPolicy.Override override = shared.of(new RetryPolicy.Override(
                r.hasSpecMaxAttempts() ? r.getSpecMaxAttempts() : null,
                r.hasSpecInitialBackoff() ? r.getSpecInitialBackoff() : null,
                r.hasSpecMaxBackoff() ? r.getSpecMaxBackoff() : null,
                r.hasSpecMultiplier() ? r.getSpecMultiplier() : null,
                r.hasSpecJitter() ? r.getSpecJitter() : null));
        JobSpec spec = new JobSpec(shared.of(r.getQueue()), shared.of(r.getType()), r.getPayload().toByteArray(),
                r.getHeadersCount() == 0 ? Map.of() : Map.copyOf(r.getHeadersMap()),
                r.getPriority(),
                r.hasSpecRunAt() ? r.getSpecRunAt() : null,
                r.hasSpecDelay() ? r.getSpecDelay() : null,
                override,
                r.hasSpecLeaseDuration() ? r.getSpecLeaseDuration() : null,
                r.hasSpecTimeout() ? r.getSpecTimeout() : null,
                r.getUniqueKey(), r.getUniqueFor(), r.getSpecJobId());
        RetryPolicy retry = shared.of(new RetryPolicy(r.getMaxAttempts(), r.getInitialBackoff(), r.getMaxBackoff(),
                r.getMultiplier(), r.getJitter()));
        List<JobError> errors = new ArrayList<>(l.getErrorsCount());
        for (ErrorRecord e : l.getErrorsList()) {
            errors.add(new JobError(e.getAttempt(), e.getMessage(), e.getAt()));
        }
        Job.Snapshot s = new Job.Snapshot(STATES[l.getState()], l.getAttempt(), l.getRunAt(), l.getFinishedAt(),
                l.getLastError(), l.getWorkerId(), l.getCancelRequested(), errors, DEAD_REASONS[l.getDeadReason()],
                l.getLeaseToken(), l.getLeaseDeadline(), l.getAttemptDeadline(), l.getOrder());
        return Job.restore(r.getId(), spec, r.getCreatedAt(), retry, r.getLeaseDuration(), r.getTimeout(), s);
    }

    static byte[] encodeSession(Session s) {
        return SessionRecord.newBuilder()
                .setWorkerId(s.workerId())
                .setName(s.name())
                .addAllQueues(s.queues())
                .setConcurrency(s.concurrency())
                .putAllLabels(s.labels())
                .setRegisteredAt(s.registeredAtMillis())
                .build().toByteArray();
    }

    static Session decodeSession(byte[] bytes) throws InvalidProtocolBufferException {
        SessionRecord r = SessionRecord.parseFrom(bytes);
        return new Session(r.getWorkerId(), r.getName(), r.getQueuesList(), r.getConcurrency(),
                r.getLabelsMap(), r.getRegisteredAt());
    }

    static byte[] encodeQueue(QueueConfig c) {
        QueueRecord.Builder b = QueueRecord.newBuilder();
        if (c.paused() != null) b.setPaused(c.paused());
        if (c.rateLimit() != null) b.setRateLimit(c.rateLimit());
        if (c.maxInFlight() != null) b.setMaxInFlight(c.maxInFlight());
        if (c.maxDepth() != null) b.setMaxDepth(c.maxDepth());
        if (c.leaseDurationMillis() != null) b.setLeaseDuration(c.leaseDurationMillis());
        if (c.timeoutMillis() != null) b.setTimeout(c.timeoutMillis());
        RetryPolicy.Override r = c.retry();
        if (r != null) {
            b.setHasRetry(true);
            if (r.maxAttempts() != null) b.setMaxAttempts(r.maxAttempts());
            if (r.initialBackoffMillis() != null) b.setInitialBackoff(r.initialBackoffMillis());
            if (r.maxBackoffMillis() != null) b.setMaxBackoff(r.maxBackoffMillis());
            if (r.multiplier() != null) b.setMultiplier(r.multiplier());
            if (r.jitter() != null) b.setJitter(r.jitter());
        }
        return b.build().toByteArray();
    }

    static QueueConfig decodeQueue(byte[] bytes) throws InvalidProtocolBufferException {
        QueueRecord r = QueueRecord.parseFrom(bytes);
        RetryPolicy.Override retry = !r.getHasRetry() ? null : new RetryPolicy.Override(
                r.hasMaxAttempts() ? r.getMaxAttempts() : null,
                r.hasInitialBackoff() ? r.getInitialBackoff() : null,
                r.hasMaxBackoff() ? r.getMaxBackoff() : null,
                r.hasMultiplier() ? r.getMultiplier() : null,
                r.hasJitter() ? r.getJitter() : null);
        return new QueueConfig(
                r.hasPaused() ? r.getPaused() : null,
                r.hasRateLimit() ? r.getRateLimit() : null,
                r.hasMaxInFlight() ? r.getMaxInFlight() : null,
                r.hasMaxDepth() ? r.getMaxDepth() : null,
                retry,
                r.hasLeaseDuration() ? r.getLeaseDuration() : null,
                r.hasTimeout() ? r.getTimeout() : null);
    }

    static byte[] encodeHold(UniqueHold h) {
        return UniqueRecord.newBuilder()
                .setQueue(h.queue())
                .setKey(h.key())
                .setJobId(h.jobId())
                .setUntil(h.untilMillis())
                .setState(h.state().ordinal())
                .build().toByteArray();
    }

    static UniqueHold decodeHold(byte[] bytes) throws InvalidProtocolBufferException {
        UniqueRecord r = UniqueRecord.parseFrom(bytes);
        return new UniqueHold(r.getQueue(), r.getKey(), r.getJobId(), r.getUntil(), STATES[r.getState()]);
    }
}
