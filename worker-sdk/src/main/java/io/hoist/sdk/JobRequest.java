package io.hoist.sdk;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One job to enqueue: what {@link HoistClient#enqueue(JobRequest)} sends. Immutable. The payload
 * is encoded by the client's codec when the request is sent ({@code byte[]} goes as it is).
 * The builder checks the request's shape (required fields, not both {@code delay} and
 * {@code runAt}); the broker checks the values (names, priority 0–9, sizes) and answers
 * {@link InvalidRequestException} naming the field.
 */
public final class JobRequest {
    private final String queue;
    private final String type;
    private final Object payload;
    private final Map<String, String> headers;
    private final int priority;
    private final Duration delay;
    private final Instant runAt;
    private final RetryPolicy retry;
    private final String uniqueKey;
    private final Duration uniqueFor;
    private final String jobId;
    private final Duration leaseDuration;
    private final Duration timeout;

    private JobRequest(Builder b) {
        this.queue = b.queue;
        this.type = b.type;
        this.payload = b.payload instanceof byte[] raw ? raw.clone() : b.payload;
        this.headers = Map.copyOf(b.headers);
        this.priority = b.priority;
        this.delay = b.delay;
        this.runAt = b.runAt;
        this.retry = b.retry;
        this.uniqueKey = b.uniqueKey;
        this.uniqueFor = b.uniqueFor;
        this.jobId = b.jobId;
        this.leaseDuration = b.leaseDuration;
        this.timeout = b.timeout;
    }

    public static Builder builder(String queue, String type) {
        return new Builder(queue, type);
    }

    public static JobRequest of(String queue, String type, Object payload) {
        return builder(queue, type).payload(payload).build();
    }

    public String queue() {
        return queue;
    }

    public String type() {
        return type;
    }

    /** The payload as given: an object for the codec, {@code byte[]} (a copy) sent raw, or null (empty). */
    public Object payload() {
        return payload instanceof byte[] raw ? raw.clone() : payload;
    }

    public Map<String, String> headers() {
        return headers;
    }

    public int priority() {
        return priority;
    }

    public Optional<Duration> delay() {
        return Optional.ofNullable(delay);
    }

    public Optional<Instant> runAt() {
        return Optional.ofNullable(runAt);
    }

    public Optional<RetryPolicy> retry() {
        return Optional.ofNullable(retry);
    }

    public Optional<String> uniqueKey() {
        return Optional.ofNullable(uniqueKey);
    }

    public Optional<Duration> uniqueFor() {
        return Optional.ofNullable(uniqueFor);
    }

    public Optional<String> jobId() {
        return Optional.ofNullable(jobId);
    }

    public Optional<Duration> leaseDuration() {
        return Optional.ofNullable(leaseDuration);
    }

    public Optional<Duration> timeout() {
        return Optional.ofNullable(timeout);
    }

    @Override
    public String toString() {
        return "JobRequest{queue=" + queue + ", type=" + type + (jobId != null ? ", jobId=" + jobId : "")
                + ", priority=" + priority + "}";
    }

    public static final class Builder {
        private final String queue;
        private final String type;
        private Object payload;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private int priority;
        private Duration delay;
        private Instant runAt;
        private RetryPolicy retry;
        private String uniqueKey;
        private Duration uniqueFor;
        private String jobId;
        private Duration leaseDuration;
        private Duration timeout;

        private Builder(String queue, String type) {
            this.queue = Objects.requireNonNull(queue, "queue");
            this.type = Objects.requireNonNull(type, "type");
        }

        /** Encoded by the client's codec when sent; a {@code byte[]} is sent as it is. */
        public Builder payload(Object payload) {
            this.payload = payload;
            return this;
        }

        /** Raw bytes, never passed to the codec. */
        public Builder payloadBytes(byte[] payload) {
            this.payload = Objects.requireNonNull(payload, "payload").clone();
            return this;
        }

        public Builder header(String key, String value) {
            headers.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        public Builder headers(Map<String, String> headers) {
            headers.forEach(this::header);
            return this;
        }

        /** 0–9, higher runs first; default 0. */
        public Builder priority(int priority) {
            this.priority = priority;
            return this;
        }

        /** Not before now + delay. At most one of {@code delay} and {@code runAt}. */
        public Builder delay(Duration delay) {
            this.delay = Objects.requireNonNull(delay, "delay");
            return this;
        }

        /** Not before this time (a past time means now). At most one of {@code delay} and {@code runAt}. */
        public Builder runAt(Instant runAt) {
            this.runAt = Objects.requireNonNull(runAt, "runAt");
            return this;
        }

        public Builder retry(RetryPolicy retry) {
            this.retry = Objects.requireNonNull(retry, "retry");
            return this;
        }

        /** Shorthand for a retry override of {@code maxAttempts} alone. */
        public Builder maxAttempts(int maxAttempts) {
            return retry(RetryPolicy.builder().maxAttempts(maxAttempts).build());
        }

        /**
         * While a job with this key is SCHEDULED, READY or LEASED in this queue (and for
         * {@code uniqueFor} after it ends), enqueueing the key again returns that job as a duplicate.
         */
        public Builder uniqueKey(String uniqueKey) {
            this.uniqueKey = Objects.requireNonNull(uniqueKey, "uniqueKey");
            return this;
        }

        public Builder uniqueFor(Duration uniqueFor) {
            this.uniqueFor = Objects.requireNonNull(uniqueFor, "uniqueFor");
            return this;
        }

        /** A client-chosen id: enqueueing it again returns the existing job, so retries are safe. */
        public Builder jobId(String jobId) {
            this.jobId = Objects.requireNonNull(jobId, "jobId");
            return this;
        }

        /** How long a lease lasts without a heartbeat (queue default, 30 s unless configured). */
        public Builder leaseDuration(Duration leaseDuration) {
            this.leaseDuration = Objects.requireNonNull(leaseDuration, "leaseDuration");
            return this;
        }

        /** Longest run time of one attempt, even with heartbeats (queue default, 30 min unless configured). */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        public JobRequest build() {
            if (delay != null && runAt != null) {
                throw new IllegalStateException("a job takes a delay or a runAt, not both");
            }
            return new JobRequest(this);
        }
    }
}
