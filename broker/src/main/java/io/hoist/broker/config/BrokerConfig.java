package io.hoist.broker.config;

import io.hoist.broker.runtime.FsyncPolicy;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything {@code hoist serve} can be told, validated once. The defaults are the safe ones.
 *
 * @param host            the address both servers bind to
 * @param grpcPort        0 picks a free port (tests)
 * @param fsyncInterval   with {@link FsyncPolicy#INTERVAL}: the longest an acknowledged write waits for its sync
 * @param maxPayloadBytes payload plus header keys and values of one job
 * @param retention       how long SUCCEEDED and CANCELED jobs stay visible to GetJob
 * @param maxBatch        most specs in one Enqueue
 * @param security        TLS, tokens and connection limits
 * @param minFreeDiskBytes below this much free space in the data dir enqueues are refused (0 = no floor)
 */
public record BrokerConfig(Path dataDir, String host, int grpcPort, int httpPort, FsyncPolicy fsync,
                           Duration fsyncInterval, Duration sessionTimeout, Duration heartbeatInterval,
                           int maxPayloadBytes, Duration retention, int maxBatch, SecurityConfig security,
                           long minFreeDiskBytes) {
    public static final long DEFAULT_MIN_FREE_DISK_BYTES = 256L << 20;

    /** Without TLS or tokens, with the default connection limits. */
    public BrokerConfig(Path dataDir, String host, int grpcPort, int httpPort, FsyncPolicy fsync,
                        Duration fsyncInterval, Duration sessionTimeout, Duration heartbeatInterval,
                        int maxPayloadBytes, Duration retention, int maxBatch) {
        this(dataDir, host, grpcPort, httpPort, fsync, fsyncInterval, sessionTimeout, heartbeatInterval,
                maxPayloadBytes, retention, maxBatch, SecurityConfig.OPEN, DEFAULT_MIN_FREE_DISK_BYTES);
    }

    public static BrokerConfig defaults(Path dataDir) {
        return new BrokerConfig(dataDir, "127.0.0.1", 7070, 7071, FsyncPolicy.ALWAYS, Duration.ofMillis(50),
                Duration.ofSeconds(10), Duration.ofSeconds(2), 1 << 20, Duration.ofMinutes(5), 1_000);
    }

    public BrokerConfig {
        requirePort("grpc-port", grpcPort);
        requirePort("http-port", httpPort);
        requirePositive("fsync-interval", fsyncInterval);
        requirePositive("session-timeout", sessionTimeout);
        requirePositive("heartbeat-interval", heartbeatInterval);
        if (heartbeatInterval.compareTo(sessionTimeout) >= 0) {
            throw new IllegalArgumentException("--heartbeat-interval (" + heartbeatInterval.toMillis()
                    + " ms) must be shorter than --session-timeout (" + sessionTimeout.toMillis() + " ms)");
        }
        if (maxPayloadBytes < 1 || maxPayloadBytes > 64 << 20) {
            throw new IllegalArgumentException("--max-payload-bytes must be 1 to 67108864, got " + maxPayloadBytes);
        }
        if (retention.isNegative()) {
            throw new IllegalArgumentException("--retention must not be negative");
        }
        if (maxBatch < 1 || maxBatch > 100_000) {
            throw new IllegalArgumentException("--max-batch must be 1 to 100000, got " + maxBatch);
        }
        java.util.Objects.requireNonNull(security, "security");
        if (minFreeDiskBytes < 0) {
            throw new IllegalArgumentException("--min-free-disk must not be negative (0 turns the floor off)");
        }
    }

    public BrokerConfig withPorts(int grpc, int http) {
        return new BrokerConfig(dataDir, host, grpc, http, fsync, fsyncInterval, sessionTimeout, heartbeatInterval,
                maxPayloadBytes, retention, maxBatch, security, minFreeDiskBytes);
    }

    public BrokerConfig withSessionTimeout(Duration timeout, Duration heartbeat) {
        return new BrokerConfig(dataDir, host, grpcPort, httpPort, fsync, fsyncInterval, timeout, heartbeat,
                maxPayloadBytes, retention, maxBatch, security, minFreeDiskBytes);
    }

    public BrokerConfig withRetention(Duration r) {
        return new BrokerConfig(dataDir, host, grpcPort, httpPort, fsync, fsyncInterval, sessionTimeout,
                heartbeatInterval, maxPayloadBytes, r, maxBatch, security, minFreeDiskBytes);
    }

    public BrokerConfig withSecurity(SecurityConfig s) {
        return new BrokerConfig(dataDir, host, grpcPort, httpPort, fsync, fsyncInterval, sessionTimeout,
                heartbeatInterval, maxPayloadBytes, retention, maxBatch, s, minFreeDiskBytes);
    }

    public BrokerConfig withMinFreeDisk(long bytes) {
        return new BrokerConfig(dataDir, host, grpcPort, httpPort, fsync, fsyncInterval, sessionTimeout,
                heartbeatInterval, maxPayloadBytes, retention, maxBatch, security, bytes);
    }

    /** The gRPC message limit: a little above the largest job, and room for batches of small ones. */
    public int maxInboundMessageBytes() {
        return Math.max(4 << 20, maxPayloadBytes + (64 << 10));
    }

    private static void requirePort(String flag, int port) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("--" + flag + " must be 0-65535, got " + port);
        }
    }

    private static void requirePositive(String flag, Duration d) {
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException("--" + flag + " must be longer than 0");
        }
    }
}
