package io.hoist.sdk.internal;

import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.hoist.proto.v1.JobServiceGrpc;
import io.hoist.proto.v1.WorkerServiceGrpc;
import io.hoist.sdk.ConnectionSecurity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The channel(s) to the broker: one per target, made when first used; calls go to the current
 * target, and {@link #failover} moves to the next after UNAVAILABLE. Also logs an outage once
 * (WARN) and its end once (INFO), whichever thread sees them. Thread-safe.
 */
public final class BrokerConnection implements AutoCloseable {
    /** Room for a lease of many jobs of up to the broker's 1 MiB payload each. */
    static final int MAX_INBOUND_BYTES = 64 << 20;
    private static final Logger log = LoggerFactory.getLogger(BrokerConnection.class);

    private final List<String> targets;
    private final AtomicReferenceArray<ManagedChannel> channels;
    private final boolean ownsChannels;
    private final ChannelCredentials credentials;
    private final CallCredentials token; // null: none
    private final AtomicBoolean away = new AtomicBoolean();
    private volatile int current;
    private volatile long awaySinceNanos;
    private volatile boolean resetBeforeNextCall;

    private BrokerConnection(List<String> targets, ManagedChannel given, ConnectionSecurity security) {
        this.targets = List.copyOf(targets);
        this.channels = new AtomicReferenceArray<>(targets.size());
        this.ownsChannels = given == null;
        this.credentials = given == null ? security.channelCredentials() : null; // TLS files are read now, not at the first call
        this.token = security.callCredentials().orElse(null);
        if (given != null) {
            channels.set(0, given);
        }
    }

    /** Channels to these {@code host:port} targets, made and shut down by this connection. */
    public static BrokerConnection to(List<String> targets) {
        return to(targets, ConnectionSecurity.PLAINTEXT);
    }

    /** As {@link #to(List)}, with TLS and a token as {@code security} says. */
    public static BrokerConnection to(List<String> targets, ConnectionSecurity security) {
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("at least one broker target is needed");
        }
        return new BrokerConnection(targets, null, security);
    }

    /** The caller's channel; {@link #close()} leaves it open. */
    public static BrokerConnection over(ManagedChannel channel) {
        return over(channel, ConnectionSecurity.PLAINTEXT);
    }

    /** The caller's channel (its own TLS), with {@code security}'s token on every call. */
    public static BrokerConnection over(ManagedChannel channel, ConnectionSecurity security) {
        return new BrokerConnection(List.of(String.valueOf(channel.authority())), channel, security);
    }

    public ManagedChannel channel() {
        int i = current;
        ManagedChannel c = channels.get(i);
        if (c == null) {
            ManagedChannel made = Grpc.newChannelBuilder(targets.get(i), credentials)
                    .maxInboundMessageSize(MAX_INBOUND_BYTES)
                    .build();
            if (channels.compareAndSet(i, null, made)) {
                c = made;
            } else {
                made.shutdownNow();
                c = channels.get(i);
            }
        }
        if (resetBeforeNextCall) {
            resetBeforeNextCall = false;
            c.resetConnectBackoff(); // TRANSIENT_FAILURE -> CONNECTING now: the call waits for it
        }
        return c;
    }

    public String target() {
        return targets.get(current);
    }

    public WorkerServiceGrpc.WorkerServiceBlockingStub worker(Duration deadline) {
        return WorkerServiceGrpc.newBlockingStub(channel()).withCallCredentials(token)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** For WorkerStream, which carries no deadline of its own. */
    public WorkerServiceGrpc.WorkerServiceStub workerStreaming() {
        return WorkerServiceGrpc.newStub(channel()).withCallCredentials(token);
    }

    /** For streams, which carry no deadline of their own. */
    public JobServiceGrpc.JobServiceStub jobsStreaming() {
        return JobServiceGrpc.newStub(channel()).withCallCredentials(token);
    }

    public JobServiceGrpc.JobServiceBlockingStub jobs(Duration deadline) {
        return JobServiceGrpc.newBlockingStub(channel()).withCallCredentials(token)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * A call on channel {@code used} failed because the broker is away: note the outage, move
     * to the next target (if there are several, and no other thread has moved on already), and
     * {@link #connectAtNextCall()}.
     */
    public void failover(StatusRuntimeException cause, Channel used) {
        if (away.compareAndSet(false, true)) {
            awaySinceNanos = System.nanoTime();
            log.warn("broker {} unreachable ({}): retrying with backoff", target(),
                    cause.getStatus().getCode());
        }
        synchronized (this) {
            int i = current;
            if (targets.size() > 1 && channels.get(i) == used) {
                current = (i + 1) % targets.size();
                log.info("trying broker {}", targets.get(current));
            }
        }
        connectAtNextCall();
    }

    /**
     * The broker was unreachable: the next call should try to connect at once rather than fail
     * fast while gRPC waits out its own reconnect backoff (our callers wait with theirs). Done
     * just before that call, not now: a reconnect tried now would fail against the absent
     * broker and restart gRPC's backoff.
     */
    public void connectAtNextCall() {
        resetBeforeNextCall = true;
    }

    /** A call succeeded: ends a noted outage. */
    public void reachable() {
        if (away.get() && away.compareAndSet(true, false)) {
            log.info("broker {} reachable again after {} ms", target(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - awaySinceNanos));
        }
    }

    @Override
    public void close() {
        if (!ownsChannels) {
            return;
        }
        for (int i = 0; i < channels.length(); i++) {
            ManagedChannel c = channels.get(i);
            if (c != null) {
                c.shutdown();
            }
        }
        for (int i = 0; i < channels.length(); i++) {
            ManagedChannel c = channels.get(i);
            try {
                if (c != null && !c.awaitTermination(5, TimeUnit.SECONDS)) {
                    c.shutdownNow();
                }
            } catch (InterruptedException e) {
                c.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }
}
