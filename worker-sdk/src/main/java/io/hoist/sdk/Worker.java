package io.hoist.sdk;

import io.grpc.ManagedChannel;
import io.hoist.sdk.internal.HandlerTable;
import io.hoist.sdk.internal.WorkerRuntime;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Leases jobs from the broker and runs their handlers. Build it, {@link #start()} it, and
 * {@link #close()} it on the way out (e.g. from a shutdown hook, so that SIGTERM drains it):
 * <pre>{@code
 * Worker worker = Worker.builder()
 *         .target("localhost:7070")
 *         .queues("emails")
 *         .concurrency(8)
 *         .handle("send-welcome", ctx -> mailer.send(ctx.payload(Email.class)))
 *         .build()
 *         .start();
 * Runtime.getRuntime().addShutdownHook(new Thread(worker::close));
 * }</pre>
 * See docs/sdk.md for what the worker guarantees and every option.
 */
public final class Worker implements AutoCloseable {
    private final WorkerOptions options;
    private final WorkerRuntime runtime;

    private Worker(WorkerOptions options, HandlerTable handlers) {
        this.options = options;
        this.runtime = new WorkerRuntime(options, handlers);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Registers with the broker and starts leasing. If the broker cannot be reached the worker
     * keeps trying in the background.
     *
     * @throws HoistException if the broker refuses the registration (e.g. an invalid queue name)
     */
    public Worker start() {
        runtime.start();
        return this;
    }

    /**
     * Stops leasing, waits up to the grace period for running jobs to finish and be acked, then
     * deregisters (the broker gives back any job still held, uncharged) and closes the channel.
     * Idempotent; blocks for at most about the grace period.
     */
    @Override
    public void close() {
        runtime.close();
    }

    public boolean isRunning() {
        return runtime.isRunning();
    }

    /** The broker's id for the current session, or null while unregistered. It changes when the worker registers again. */
    public String workerId() {
        return runtime.workerId();
    }

    /** Jobs held now: running, or finished with their ack not yet settled. */
    public int runningJobs() {
        return runtime.runningJobs();
    }

    public WorkerOptions options() {
        return options;
    }

    /** Test hook: stop (or resume) heartbeats, as if the process were frozen. */
    void suspendHeartbeats(boolean suspend) {
        runtime.suspendHeartbeats(suspend);
    }

    /** Options (see {@link WorkerOptions.Builder} for each default) and handlers. */
    public static final class Builder {
        private WorkerOptions.Builder options = WorkerOptions.builder();
        private final Map<String, JobHandler> handlers = new LinkedHashMap<>();
        private JobHandler fallback;

        private Builder() {
        }

        /** Runs jobs of this type. */
        public Builder handle(String type, JobHandler handler) {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(handler, "handler");
            if (handlers.putIfAbsent(type, handler) != null) {
                throw new IllegalArgumentException("a handler for type " + type + " is already registered");
            }
            return this;
        }

        /** Runs jobs of every type without a handler of its own; without it they are nacked as non-retryable (DEAD). */
        public Builder defaultHandler(JobHandler handler) {
            this.fallback = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /** Replaces every option with these. */
        public Builder options(WorkerOptions options) {
            this.options = options.toBuilder();
            return this;
        }

        public Builder target(String target) {
            options.target(target);
            return this;
        }

        /** Hears registrations and the fate of each result (see {@link WorkerListener}). */
        public Builder listener(WorkerListener listener) {
            options.listener(listener);
            return this;
        }

        public Builder targets(List<String> targets) {
            options.targets(targets);
            return this;
        }

        public Builder channel(ManagedChannel channel) {
            options.channel(channel);
            return this;
        }

        /** TLS and token at once. */
        public Builder security(ConnectionSecurity security) {
            options.security(security);
            return this;
        }

        /** A token's secret, sent as {@code authorization: Bearer} on every call. */
        public Builder token(String secret) {
            options.token(secret);
            return this;
        }

        /** TLS, trusting the JVM's default CAs. */
        public Builder tls() {
            options.tls();
            return this;
        }

        /** TLS, trusting the CA certificate(s) in this PEM file. */
        public Builder tlsTrust(java.nio.file.Path caPem) {
            options.tlsTrust(caPem);
            return this;
        }

        /** Mutual TLS: present this PEM certificate and its unencrypted PKCS#8 PEM key. */
        public Builder tlsClientCertificate(java.nio.file.Path certPem, java.nio.file.Path keyPem) {
            options.tlsClientCertificate(certPem, keyPem);
            return this;
        }

        public Builder queues(String... queues) {
            options.queues(queues);
            return this;
        }

        public Builder concurrency(int concurrency) {
            options.concurrency(concurrency);
            return this;
        }

        public Builder name(String name) {
            options.name(name);
            return this;
        }

        public Builder label(String key, String value) {
            options.label(key, value);
            return this;
        }

        public Builder gracePeriod(Duration gracePeriod) {
            options.gracePeriod(gracePeriod);
            return this;
        }

        public Builder codec(PayloadCodec codec) {
            options.codec(codec);
            return this;
        }

        public Builder callTimeout(Duration callTimeout) {
            options.callTimeout(callTimeout);
            return this;
        }

        public Builder reconnectBackoff(Duration initial, Duration max) {
            options.reconnectBackoff(initial, max);
            return this;
        }

        /** @throws IllegalArgumentException if an option is out of range, or there is no handler at all */
        public Worker build() {
            WorkerOptions built = options.build();
            if (handlers.isEmpty() && fallback == null) {
                throw new IllegalArgumentException("a worker needs at least one handler (handle or defaultHandler)");
            }
            return new Worker(built, new HandlerTable(handlers, fallback));
        }
    }
}
