package io.hoist.broker.grpc;

import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.hoist.broker.engine.JobError;
import io.hoist.broker.engine.JobSpec;
import io.hoist.broker.engine.Outcome;
import io.hoist.broker.engine.RetryPolicy;
import io.hoist.proto.v1.AckOutcome;
import io.hoist.proto.v1.AckResponse;
import io.hoist.proto.v1.AckResult;
import io.hoist.proto.v1.CancelJobResponse;
import io.hoist.proto.v1.DeadReason;
import io.hoist.proto.v1.DeregisterResponse;
import io.hoist.proto.v1.EnqueueResponse;
import io.hoist.proto.v1.EnqueuedJob;
import io.hoist.proto.v1.HeartbeatResponse;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.LeaseResponse;
import io.hoist.proto.v1.ListJobsResponse;
import io.hoist.proto.v1.ListQueuesResponse;
import io.hoist.proto.v1.ListWorkersResponse;
import io.hoist.proto.v1.QueueConfig;
import io.hoist.proto.v1.QueueInfo;
import io.hoist.proto.v1.WorkerInfo;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.NackResponse;

/** Engine values to wire messages. Requests go the other way through {@link RequestValidator}. */
final class ProtoMapper {
    private ProtoMapper() {
    }

    static EnqueueResponse enqueued(Outcome.Enqueued o) {
        EnqueueResponse.Builder b = EnqueueResponse.newBuilder();
        for (Outcome.EnqueuedJob j : o.jobs()) {
            b.addJobs(EnqueuedJob.newBuilder().setJobId(j.jobId()).setDuplicate(j.duplicate()).setState(state(j.state())));
        }
        return b.build();
    }

    static Job job(Outcome.JobFound o) {
        return job(o.job());
    }

    static CancelJobResponse canceled(Outcome.Canceled o) {
        return CancelJobResponse.newBuilder().setState(state(o.state())).build();
    }

    static HeartbeatResponse heartbeat(Outcome.HeartbeatAnswer o) {
        return HeartbeatResponse.newBuilder()
                .addAllCanceledJobIds(o.canceledJobIds())
                .addAllLostJobIds(o.lostJobIds())
                .setShutdownRequested(o.shutdownRequested())
                .build();
    }

    static LeaseResponse leased(Outcome.Leased o) {
        LeaseResponse.Builder b = LeaseResponse.newBuilder();
        for (Outcome.LeasedJob lj : o.jobs()) {
            b.addJobs(LeasedJob.newBuilder()
                    .setJob(job(lj.job()))
                    .setLeaseToken(lj.leaseToken())
                    .setLeaseDeadline(timestamp(lj.leaseDeadlineMillis())));
        }
        return b.build();
    }

    static AckResponse acked(Outcome.Acked o) {
        AckResponse.Builder b = AckResponse.newBuilder();
        for (Outcome.AckResult r : o.results()) {
            b.addResults(AckResult.newBuilder().setJobId(r.jobId()).setOutcome(switch (r.outcome()) {
                case ACKED -> AckOutcome.ACK_OUTCOME_ACKED;
                case LEASE_LOST -> AckOutcome.ACK_OUTCOME_LEASE_LOST;
                case NOT_FOUND -> AckOutcome.ACK_OUTCOME_NOT_FOUND;
            }));
        }
        return b.build();
    }

    static NackResponse nacked(Outcome.Nacked o) {
        return NackResponse.newBuilder().setState(state(o.state())).setRunAt(timestamp(o.runAtMillis())).build();
    }

    static DeregisterResponse deregistered(Outcome.Deregistered o) {
        return DeregisterResponse.newBuilder().setReleased(o.released()).build();
    }

    static ListQueuesResponse queues(Outcome.Queues o) {
        ListQueuesResponse.Builder b = ListQueuesResponse.newBuilder();
        o.queues().forEach(q -> b.addQueues(queueInfo(q)));
        return b.build();
    }

    static QueueInfo queueInfo(Outcome.Queue o) {
        return queueInfo(o.queue());
    }

    static QueueInfo queueInfo(io.hoist.broker.engine.QueueInfo q) {
        return QueueInfo.newBuilder()
                .setName(q.name())
                .setReady(q.ready())
                .setScheduled(q.scheduled())
                .setLeased(q.leased())
                .setDead(q.dead())
                .setConfig(queueConfig(q.config()))
                .setEnqueuedTotal(q.enqueuedTotal())
                .setLeasedTotal(q.leasedTotal())
                .setAckedTotal(q.ackedTotal())
                .setDeadTotal(q.deadTotal())
                .build();
    }

    static QueueConfig queueConfig(io.hoist.broker.engine.QueueConfig c) {
        QueueConfig.Builder b = QueueConfig.newBuilder();
        if (c.paused() != null) b.setPaused(c.paused());
        if (c.rateLimit() != null) b.setRateLimit(c.rateLimit());
        if (c.maxInFlight() != null) b.setMaxInFlight(c.maxInFlight());
        if (c.maxDepth() != null) b.setMaxDepth(c.maxDepth());
        if (c.retry() != null) b.setRetry(retry(c.retry()));
        if (c.leaseDurationMillis() != null) b.setLeaseDuration(duration(c.leaseDurationMillis()));
        if (c.timeoutMillis() != null) b.setTimeout(duration(c.timeoutMillis()));
        return b.build();
    }

    static ListJobsResponse jobs(Outcome.Jobs o) {
        ListJobsResponse.Builder b = ListJobsResponse.newBuilder().setNextPageToken(o.nextPageToken());
        o.jobs().forEach(j -> b.addJobs(job(j)));
        return b.build();
    }

    static ListWorkersResponse workers(Outcome.Workers o) {
        ListWorkersResponse.Builder b = ListWorkersResponse.newBuilder();
        for (io.hoist.broker.engine.WorkerInfo w : o.workers()) {
            b.addWorkers(WorkerInfo.newBuilder()
                    .setWorkerId(w.workerId())
                    .setName(w.name())
                    .addAllQueues(w.queues())
                    .setConcurrency(w.concurrency())
                    .setInFlight(w.inFlight())
                    .setLastHeartbeat(timestamp(w.lastHeartbeatMillis()))
                    .putAllLabels(w.labels()));
        }
        return b.build();
    }

    static Job job(io.hoist.broker.engine.Job job) {
        Job.Builder b = Job.newBuilder()
                .setId(job.id())
                .setSpec(spec(job.spec()))
                .setState(state(job.state()))
                .setAttempt(job.attempt())
                .setCreatedAt(timestamp(job.createdAtMillis()))
                .setRunAt(timestamp(job.runAtMillis()))
                .setLastError(job.lastError())
                .setWorkerId(job.workerId())
                .setCancelRequested(job.cancelRequested())
                .setDeadReason(deadReason(job.deadReason()));
        if (job.finishedAtMillis() > 0) {
            b.setFinishedAt(timestamp(job.finishedAtMillis()));
        }
        for (JobError e : job.errors()) {
            b.addErrors(io.hoist.proto.v1.JobError.newBuilder()
                    .setAttempt(e.attempt()).setMessage(e.message()).setAt(timestamp(e.atMillis())));
        }
        return b.build();
    }

    static io.hoist.proto.v1.JobSpec spec(JobSpec s) {
        io.hoist.proto.v1.JobSpec.Builder b = io.hoist.proto.v1.JobSpec.newBuilder()
                .setQueue(s.queue())
                .setType(s.type())
                .setPayload(UnsafeByteOperations.unsafeWrap(s.payload())) // no copy: a JobSpec's payload is never written
                .putAllHeaders(s.headers())
                .setPriority(s.priority())
                .setUniqueKey(s.uniqueKey())
                .setJobId(s.jobId());
        if (s.runAtMillis() != null) b.setRunAt(timestamp(s.runAtMillis()));
        if (s.delayMillis() != null) b.setDelay(duration(s.delayMillis()));
        if (s.leaseDurationMillis() != null) b.setLeaseDuration(duration(s.leaseDurationMillis()));
        if (s.timeoutMillis() != null) b.setTimeout(duration(s.timeoutMillis()));
        if (s.uniqueForMillis() > 0) b.setUniqueFor(duration(s.uniqueForMillis()));
        RetryPolicy.Override o = s.retry();
        if (o != null && !o.equals(RetryPolicy.Override.NONE)) {
            b.setRetry(retry(o));
        }
        return b.build();
    }

    static io.hoist.proto.v1.RetryPolicy retry(RetryPolicy.Override o) {
        io.hoist.proto.v1.RetryPolicy.Builder r = io.hoist.proto.v1.RetryPolicy.newBuilder();
        if (o.maxAttempts() != null) r.setMaxAttempts(o.maxAttempts());
        if (o.initialBackoffMillis() != null) r.setInitialBackoff(duration(o.initialBackoffMillis()));
        if (o.maxBackoffMillis() != null) r.setMaxBackoff(duration(o.maxBackoffMillis()));
        if (o.multiplier() != null) r.setMultiplier(o.multiplier());
        if (o.jitter() != null) r.setJitter(o.jitter());
        return r.build();
    }

    static JobState state(io.hoist.broker.engine.JobState s) {
        return switch (s) {
            case SCHEDULED -> JobState.JOB_STATE_SCHEDULED;
            case READY -> JobState.JOB_STATE_READY;
            case LEASED -> JobState.JOB_STATE_LEASED;
            case SUCCEEDED -> JobState.JOB_STATE_SUCCEEDED;
            case DEAD -> JobState.JOB_STATE_DEAD;
            case CANCELED -> JobState.JOB_STATE_CANCELED;
        };
    }

    static DeadReason deadReason(io.hoist.broker.engine.DeadReason r) {
        return switch (r) {
            case NONE -> DeadReason.DEAD_REASON_UNSPECIFIED;
            case ATTEMPTS_EXHAUSTED -> DeadReason.DEAD_REASON_ATTEMPTS_EXHAUSTED;
            case NON_RETRYABLE -> DeadReason.DEAD_REASON_NON_RETRYABLE;
            case LEASE_EXPIRED -> DeadReason.DEAD_REASON_LEASE_EXPIRED;
            case WORKER_LOST -> DeadReason.DEAD_REASON_WORKER_LOST;
        };
    }

    static Timestamp timestamp(long millis) {
        return Timestamp.newBuilder()
                .setSeconds(Math.floorDiv(millis, 1000))
                .setNanos((int) Math.floorMod(millis, 1000) * 1_000_000)
                .build();
    }

    static Duration duration(long millis) {
        return Duration.newBuilder().setSeconds(millis / 1000).setNanos((int) (millis % 1000) * 1_000_000).build();
    }
}
