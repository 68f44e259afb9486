package io.hoist.sdk;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.hoist.proto.v1.CancelJobRequest;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.EnqueueResponse;
import io.hoist.proto.v1.GetJobRequest;
import io.hoist.sdk.internal.Backoff;
import io.hoist.sdk.internal.BrokerConnection;
import io.hoist.sdk.internal.EnqueuePipeline;
import io.hoist.sdk.internal.ProtoMapper;
import io.hoist.sdk.internal.StatusErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The producer API: enqueue jobs, look them up, cancel them. Thread-safe; make one per
 * application and share it. Every call blocks until the broker answers (an acknowledged enqueue
 * is durable) or fails with a {@link HoistException}. A queue at its {@code max_depth} is retried
 * with backoff before {@link QueueFullException} is thrown; other failures are not retried
 * (UNAVAILABLE becomes {@link BrokerUnavailableException}).
 */
public final class HoistClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HoistClient.class);
    /** Unanswered async batches; the broker reads at most 1,024 per stream ahead. */
    static final int ASYNC_WINDOW = 1_024;

    private final BrokerConnection connection;
    private final Duration callTimeout;
    private final PayloadCodec codec;
    private final int queueFullAttempts;
    private final Backoff queueFullBackoff;
    private final EnqueuePipeline pipeline;

    private HoistClient(Builder b) {
        this.connection = b.channel != null ? BrokerConnection.over(b.channel, b.security)
                : BrokerConnection.to(List.of(b.target), b.security);
        this.callTimeout = b.callTimeout;
        this.codec = b.codec;
        this.queueFullAttempts = b.queueFullAttempts;
        this.queueFullBackoff = Backoff.of(b.queueFullInitialBackoff, b.queueFullMaxBackoff);
        this.pipeline = new EnqueuePipeline(connection, ASYNC_WINDOW, callTimeout);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Enqueues one job with the queue's defaults; the payload goes through the codec ({@code byte[]} raw). */
    public Enqueued enqueue(String queue, String type, Object payload) {
        return enqueue(JobRequest.of(queue, type, payload));
    }

    public Enqueued enqueue(JobRequest request) {
        return enqueueBatch(List.of(request)).get(0);
    }

    /**
     * Enqueues the jobs atomically: all are stored or none. Answers one {@link Enqueued} per
     * request, in order. A batch refused as QUEUE_FULL is retried whole.
     */
    public List<Enqueued> enqueueBatch(List<JobRequest> requests) {
        EnqueueRequest.Builder req = EnqueueRequest.newBuilder();
        for (JobRequest r : requests) {
            req.addJobs(ProtoMapper.spec(Objects.requireNonNull(r, "request"), codec));
        }
        EnqueueResponse resp = enqueueRetryingWhileFull(req.build());
        return resp.getJobsList().stream()
                .map(j -> new Enqueued(j.getJobId(), j.getDuplicate(), ProtoMapper.state(j.getState())))
                .toList();
    }

    /**
     * Enqueues one job without waiting: the future completes once the broker has stored it (or
     * fails with the {@link HoistException} {@link #enqueue(JobRequest)} would throw, except that
     * QUEUE_FULL is not retried). All async enqueues of this client share one stream to the broker,
     * which makes many small enqueues far cheaper than blocking calls. Blocks only while 1,024
     * batches are unanswered.
     */
    public CompletableFuture<Enqueued> enqueueAsync(JobRequest request) {
        return enqueueBatchAsync(List.of(request)).thenApply(list -> list.get(0));
    }

    /** {@link #enqueueBatch} without waiting: the batch is stored atomically, or not at all. */
    public CompletableFuture<List<Enqueued>> enqueueBatchAsync(List<JobRequest> requests) {
        List<io.hoist.proto.v1.JobSpec> specs = requests.stream()
                .map(r -> ProtoMapper.spec(Objects.requireNonNull(r, "request"), codec)).toList();
        try {
            return pipeline.submit(specs).thenApply(jobs -> jobs.stream()
                    .map(j -> new Enqueued(j.getJobId(), j.getDuplicate(), ProtoMapper.state(j.getState())))
                    .toList());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(e);
        }
    }

    private EnqueueResponse enqueueRetryingWhileFull(EnqueueRequest req) {
        for (int attempt = 1; ; attempt++) {
            try {
                return connection.jobs(callTimeout).enqueue(req);
            } catch (StatusRuntimeException e) {
                if (!StatusErrors.isQueueFull(e)) {
                    throw failure(e);
                }
                if (attempt >= queueFullAttempts) {
                    throw new QueueFullException(StatusErrors.error(e), attempt, e);
                }
                Duration wait = queueFullBackoff.delay(attempt);
                log.debug("enqueue refused, queue full (attempt {} of {}): retrying in {} ms", attempt,
                        queueFullAttempts, wait.toMillis());
                try {
                    Thread.sleep(wait.toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new QueueFullException(StatusErrors.error(e), attempt, e);
                }
            }
        }
    }

    /** @throws JobNotFoundException if there is no such job (or its record is gone after retention) */
    public JobInfo getJob(String jobId) {
        try {
            return new JobInfo(connection.jobs(callTimeout).getJob(GetJobRequest.newBuilder().setJobId(jobId).build()),
                    codec);
        } catch (StatusRuntimeException e) {
            throw failure(e);
        }
    }

    /**
     * Cancels a job. A SCHEDULED, READY or DEAD job is CANCELED at once (answer
     * {@link JobState#CANCELED}); a LEASED job is flagged and its worker told (answer
     * {@link JobState#LEASED}): it ends CANCELED, or SUCCEEDED if the worker had already finished.
     *
     * @throws JobNotFoundException if there is no such job
     * @throws HoistException       {@code FAILED_PRECONDITION JOB_FINISHED} if it already SUCCEEDED or was CANCELED
     */
    public JobState cancel(String jobId) {
        try {
            return ProtoMapper.state(connection.jobs(callTimeout)
                    .cancelJob(CancelJobRequest.newBuilder().setJobId(jobId).build()).getState());
        } catch (StatusRuntimeException e) {
            throw failure(e);
        }
    }

    private HoistException failure(StatusRuntimeException e) {
        if (StatusErrors.isTransient(e)) {
            connection.connectAtNextCall(); // the caller's own retry then finds the broker as soon as it is back
        }
        return StatusErrors.toException(e);
    }

    public PayloadCodec codec() {
        return codec;
    }

    /**
     * Waits (up to the call timeout) for the answers to async enqueues still due, then shuts down
     * the channel this client made (a channel given to the builder stays open).
     */
    @Override
    public void close() {
        pipeline.close();
        connection.close();
    }

    /** Options and their defaults; {@link #build()} checks them. */
    public static final class Builder {
        private String target = "localhost:7070";
        private ManagedChannel channel;
        private Duration callTimeout = Duration.ofSeconds(10);
        private PayloadCodec codec = new JsonCodec();
        private int queueFullAttempts = 5;
        private Duration queueFullInitialBackoff = Duration.ofMillis(100);
        private Duration queueFullMaxBackoff = Duration.ofSeconds(2);
        private ConnectionSecurity security = ConnectionSecurity.PLAINTEXT;

        private Builder() {
        }

        /** The broker's {@code host:port}; default {@code localhost:7070}. */
        public Builder target(String target) {
            this.target = Objects.requireNonNull(target, "target");
            return this;
        }

        /**
         * An existing channel (its own TLS, interceptors…); the client uses it instead of a target and
         * does not close it. A {@link #token} is still sent on it.
         */
        public Builder channel(ManagedChannel channel) {
            this.channel = Objects.requireNonNull(channel, "channel");
            return this;
        }

        /** A token's secret (from {@code hoist token create}), sent as {@code authorization: Bearer} on every call. */
        public Builder token(String secret) {
            this.security = security.withToken(secret);
            return this;
        }

        /** TLS, trusting the JVM's default CAs. */
        public Builder tls() {
            this.security = security.withTls();
            return this;
        }

        /** TLS, trusting the CA certificate(s) in this PEM file (implies {@link #tls()}). */
        public Builder tlsTrust(Path caPem) {
            this.security = security.withTrustedCa(caPem);
            return this;
        }

        /** Mutual TLS: present this PEM certificate and its unencrypted PKCS#8 PEM key (implies {@link #tls()}). */
        public Builder tlsClientCertificate(Path certPem, Path keyPem) {
            this.security = security.withClientCertificate(certPem, keyPem);
            return this;
        }

        /** All of the above at once. */
        public Builder security(ConnectionSecurity security) {
            this.security = Objects.requireNonNull(security, "security");
            return this;
        }

        /** The deadline of each call; default 10 s. */
        public Builder callTimeout(Duration callTimeout) {
            this.callTimeout = Objects.requireNonNull(callTimeout, "callTimeout");
            return this;
        }

        /** Encodes payload objects; default {@link JsonCodec}. */
        public Builder codec(PayloadCodec codec) {
            this.codec = Objects.requireNonNull(codec, "codec");
            return this;
        }

        /** Tries of an enqueue refused as QUEUE_FULL, the first included; default 5 (1 = no retry). */
        public Builder queueFullAttempts(int attempts) {
            this.queueFullAttempts = attempts;
            return this;
        }

        /** The backoff between those tries: doubling from {@code initial} up to {@code max}, with jitter; default 100 ms → 2 s. */
        public Builder queueFullBackoff(Duration initial, Duration max) {
            this.queueFullInitialBackoff = Objects.requireNonNull(initial, "initial");
            this.queueFullMaxBackoff = Objects.requireNonNull(max, "max");
            return this;
        }

        public HoistClient build() {
            if (target.isBlank()) {
                throw new IllegalArgumentException("target must be host:port, got an empty string");
            }
            requirePositive("callTimeout", callTimeout);
            if (queueFullAttempts < 1) {
                throw new IllegalArgumentException("queueFullAttempts must be at least 1, got " + queueFullAttempts);
            }
            requirePositive("queueFullBackoff initial", queueFullInitialBackoff);
            if (queueFullMaxBackoff.compareTo(queueFullInitialBackoff) < 0) {
                throw new IllegalArgumentException("queueFullBackoff max (" + queueFullMaxBackoff
                        + ") is shorter than its initial (" + queueFullInitialBackoff + ")");
            }
            return new HoistClient(this);
        }

        private static void requirePositive(String name, Duration d) {
            if (d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(name + " must be longer than 0, got " + d);
            }
        }
    }
}
