package io.hoist.sdk;

import io.grpc.ManagedChannel;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** How a {@link Worker} runs. Immutable; {@link Builder#build()} checks every value. */
public final class WorkerOptions {
    static final int MAX_CONCURRENCY = 1_000;

    private final List<String> targets;
    private final ManagedChannel channel;
    private final List<String> queues;
    private final int concurrency;
    private final String name;
    private final Map<String, String> labels;
    private final Duration gracePeriod;
    private final PayloadCodec codec;
    private final Duration callTimeout;
    private final Duration reconnectInitialBackoff;
    private final Duration reconnectMaxBackoff;
    private final WorkerListener listener;
    private final ConnectionSecurity security;

    private WorkerOptions(Builder b) {
        this.targets = List.copyOf(b.targets);
        this.channel = b.channel;
        this.queues = List.copyOf(b.queues);
        this.concurrency = b.concurrency;
        this.name = b.name;
        this.labels = Map.copyOf(b.labels);
        this.gracePeriod = b.gracePeriod;
        this.codec = b.codec;
        this.callTimeout = b.callTimeout;
        this.listener = b.listener;
        this.reconnectInitialBackoff = b.reconnectInitialBackoff;
        this.reconnectMaxBackoff = b.reconnectMaxBackoff;
        this.security = b.security;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder().targets(targets).queues(queues).concurrency(concurrency).name(name)
                .labels(labels).gracePeriod(gracePeriod).codec(codec).callTimeout(callTimeout).listener(listener)
                .reconnectBackoff(reconnectInitialBackoff, reconnectMaxBackoff).security(security);
        return channel != null ? b.channel(channel) : b;
    }

    public List<String> targets() {
        return targets;
    }

    public Optional<ManagedChannel> channel() {
        return Optional.ofNullable(channel);
    }

    public List<String> queues() {
        return queues;
    }

    public int concurrency() {
        return concurrency;
    }

    public String name() {
        return name;
    }

    public Map<String, String> labels() {
        return labels;
    }

    public Duration gracePeriod() {
        return gracePeriod;
    }

    public PayloadCodec codec() {
        return codec;
    }

    public Duration callTimeout() {
        return callTimeout;
    }

    /** Hears registrations and the fate of each result; does nothing unless set. */
    public WorkerListener listener() {
        return listener;
    }

    public Duration reconnectInitialBackoff() {
        return reconnectInitialBackoff;
    }

    public Duration reconnectMaxBackoff() {
        return reconnectMaxBackoff;
    }

    /** TLS and token; {@link ConnectionSecurity#PLAINTEXT} unless set. */
    public ConnectionSecurity security() {
        return security;
    }

    @Override
    public String toString() {
        return "WorkerOptions{targets=" + (channel != null ? "[given channel]" : targets) + ", queues=" + queues
                + ", concurrency=" + concurrency + ", name=" + name + ", labels=" + labels + ", gracePeriod="
                + gracePeriod + ", callTimeout=" + callTimeout + ", reconnectBackoff="
                + reconnectInitialBackoff + ".." + reconnectMaxBackoff + ", codec=" + codec.getClass().getSimpleName()
                + ", security=" + security + "}";
    }

    /** Every option starts at its default (see docs/sdk.md); only {@code queues} is required. */
    public static final class Builder {
        private List<String> targets = List.of("localhost:7070");
        private ManagedChannel channel;
        private final List<String> queues = new ArrayList<>();
        private int concurrency = 10;
        private String name = defaultName();
        private final Map<String, String> labels = new LinkedHashMap<>();
        private Duration gracePeriod = Duration.ofSeconds(30);
        private PayloadCodec codec = new JsonCodec();
        private Duration callTimeout = Duration.ofSeconds(10);
        private WorkerListener listener = new WorkerListener() {
        };
        private Duration reconnectInitialBackoff = Duration.ofMillis(100);
        private Duration reconnectMaxBackoff = Duration.ofSeconds(5);
        private ConnectionSecurity security = ConnectionSecurity.PLAINTEXT;

        private Builder() {
        }

        /** One broker {@code host:port}; default {@code localhost:7070}. */
        public Builder target(String target) {
            return targets(List.of(target));
        }

        /** Brokers to try in order: after UNAVAILABLE the worker moves to the next. */
        public Builder targets(List<String> targets) {
            this.targets = List.copyOf(targets);
            return this;
        }

        /**
         * An existing channel (its own TLS, interceptors…) used instead of targets; {@link Worker#close()}
         * leaves it open. A {@link #token} is still sent on it.
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

        /** Adds queues to lease from, tried in the order given. Required. */
        public Builder queues(String... queues) {
            return queues(List.of(queues));
        }

        public Builder queues(List<String> queues) {
            for (String q : queues) {
                this.queues.add(Objects.requireNonNull(q, "queue"));
            }
            return this;
        }

        /** Handlers running at once (threads, and jobs held); default 10, at most 1,000. */
        public Builder concurrency(int concurrency) {
            this.concurrency = concurrency;
            return this;
        }

        /** Shown by {@code hoist workers}; default {@code pid@hostname}. */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        public Builder label(String key, String value) {
            labels.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        public Builder labels(Map<String, String> labels) {
            labels.forEach(this::label);
            return this;
        }

        /** How long {@link Worker#close()} waits for running jobs to finish and be acked; default 30 s. */
        public Builder gracePeriod(Duration gracePeriod) {
            this.gracePeriod = Objects.requireNonNull(gracePeriod, "gracePeriod");
            return this;
        }

        /** Decodes {@link JobContext#payload(Class)}; default {@link JsonCodec}. */
        public Builder codec(PayloadCodec codec) {
            this.codec = Objects.requireNonNull(codec, "codec");
            return this;
        }

        public Builder listener(WorkerListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** The deadline of each call, and how long acks sent on the lease stream wait for their answer; default 10 s. */
        public Builder callTimeout(Duration callTimeout) {
            this.callTimeout = Objects.requireNonNull(callTimeout, "callTimeout");
            return this;
        }

        /** Waits between tries while the broker is away: doubling from {@code initial} to {@code max}, with jitter; default 100 ms → 5 s. */
        public Builder reconnectBackoff(Duration initial, Duration max) {
            this.reconnectInitialBackoff = Objects.requireNonNull(initial, "initial");
            this.reconnectMaxBackoff = Objects.requireNonNull(max, "max");
            return this;
        }

        public WorkerOptions build() {
            if (channel == null && (targets.isEmpty() || targets.stream().anyMatch(String::isBlank))) {
                throw new IllegalArgumentException("targets must be one or more host:port, got " + targets);
            }
            if (queues.isEmpty()) {
                throw new IllegalArgumentException("a worker needs at least one queue");
            }
            if (queues.stream().distinct().count() != queues.size()) {
                throw new IllegalArgumentException("queues must not repeat, got " + queues);
            }
            if (concurrency < 1 || concurrency > MAX_CONCURRENCY) {
                throw new IllegalArgumentException("concurrency must be 1-" + MAX_CONCURRENCY + ", got " + concurrency);
            }
            if (gracePeriod.isNegative()) {
                throw new IllegalArgumentException("gracePeriod must not be negative, got " + gracePeriod);
            }
            requirePositive("callTimeout", callTimeout);
            requirePositive("reconnectBackoff initial", reconnectInitialBackoff);
            if (reconnectMaxBackoff.compareTo(reconnectInitialBackoff) < 0) {
                throw new IllegalArgumentException("reconnectBackoff max (" + reconnectMaxBackoff
                        + ") is shorter than its initial (" + reconnectInitialBackoff + ")");
            }
            return new WorkerOptions(this);
        }

        private static void requirePositive(String name, Duration d) {
            if (d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(name + " must be longer than 0, got " + d);
            }
        }

        private static String defaultName() {
            String host;
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                host = "unknown-host";
            }
            String name = ProcessHandle.current().pid() + "@" + host;
            return name.length() > 128 ? name.substring(0, 128) : name;
        }
    }
}
