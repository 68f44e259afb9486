package io.hoist.sdk.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.hoist.proto.v1.JobSpec;
import io.hoist.sdk.DeadReason;
import io.hoist.sdk.JobRequest;
import io.hoist.sdk.JobState;
import io.hoist.sdk.PayloadCodec;
import io.hoist.sdk.RetryPolicy;

import java.time.Instant;

/** The one place where SDK values and the wire messages meet. */
public final class ProtoMapper {
    private ProtoMapper() {
    }

    public static JobSpec spec(JobRequest r, PayloadCodec codec) {
        JobSpec.Builder b = JobSpec.newBuilder()
                .setQueue(r.queue())
                .setType(r.type())
                .setPayload(payload(r.payload(), codec))
                .putAllHeaders(r.headers())
                .setPriority(r.priority());
        r.delay().ifPresent(d -> b.setDelay(duration(d)));
        r.runAt().ifPresent(t -> b.setRunAt(timestamp(t)));
        r.retry().ifPresent(p -> b.setRetry(retry(p)));
        r.uniqueKey().ifPresent(b::setUniqueKey);
        r.uniqueFor().ifPresent(d -> b.setUniqueFor(duration(d)));
        r.jobId().ifPresent(b::setJobId);
        r.leaseDuration().ifPresent(d -> b.setLeaseDuration(duration(d)));
        r.timeout().ifPresent(d -> b.setTimeout(duration(d)));
        return b.build();
    }

    private static ByteString payload(Object payload, PayloadCodec codec) {
        if (payload == null) {
            return ByteString.EMPTY;
        }
        return ByteString.copyFrom(payload instanceof byte[] raw ? raw : codec.encode(payload));
    }

    private static io.hoist.proto.v1.RetryPolicy retry(RetryPolicy p) {
        io.hoist.proto.v1.RetryPolicy.Builder b = io.hoist.proto.v1.RetryPolicy.newBuilder();
        p.maxAttempts().ifPresent(b::setMaxAttempts);
        p.initialBackoff().ifPresent(d -> b.setInitialBackoff(duration(d)));
        p.maxBackoff().ifPresent(d -> b.setMaxBackoff(duration(d)));
        p.multiplier().ifPresent(b::setMultiplier);
        p.jitter().ifPresent(b::setJitter);
        return b.build();
    }

    public static JobState state(io.hoist.proto.v1.JobState s) {
        return switch (s) {
            case JOB_STATE_SCHEDULED -> JobState.SCHEDULED;
            case JOB_STATE_READY -> JobState.READY;
            case JOB_STATE_LEASED -> JobState.LEASED;
            case JOB_STATE_SUCCEEDED -> JobState.SUCCEEDED;
            case JOB_STATE_DEAD -> JobState.DEAD;
            case JOB_STATE_CANCELED -> JobState.CANCELED;
            default -> JobState.UNKNOWN;
        };
    }

    public static DeadReason deadReason(io.hoist.proto.v1.DeadReason r) {
        return switch (r) {
            case DEAD_REASON_UNSPECIFIED -> DeadReason.NONE;
            case DEAD_REASON_ATTEMPTS_EXHAUSTED -> DeadReason.ATTEMPTS_EXHAUSTED;
            case DEAD_REASON_NON_RETRYABLE -> DeadReason.NON_RETRYABLE;
            case DEAD_REASON_LEASE_EXPIRED -> DeadReason.LEASE_EXPIRED;
            case DEAD_REASON_WORKER_LOST -> DeadReason.WORKER_LOST;
            default -> DeadReason.UNKNOWN;
        };
    }

    public static Duration duration(java.time.Duration d) {
        return Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
    }

    public static java.time.Duration duration(Duration d) {
        return java.time.Duration.ofSeconds(d.getSeconds(), d.getNanos());
    }

    public static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }

    public static Instant instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }
}
