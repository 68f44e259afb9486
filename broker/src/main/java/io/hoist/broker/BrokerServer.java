package io.hoist.broker;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.hoist.broker.auth.AuthInterceptor;
import io.hoist.broker.auth.ExposureWarnings;
import io.hoist.broker.auth.MetricsGuard;
import io.hoist.broker.auth.TokenFile;
import io.hoist.broker.auth.Tokens;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.broker.config.SecurityConfig;
import io.hoist.broker.http.MetricsAccess;
import io.hoist.broker.transport.ConnectionLimit;
import io.hoist.broker.transport.TlsContexts;
import io.hoist.broker.engine.EngineConfig;
import io.hoist.broker.engine.RetryPolicy;
import io.hoist.broker.grpc.GrpcApi;
import io.hoist.broker.http.HttpEndpoints;
import io.hoist.broker.runtime.EngineLoop;
import io.hoist.broker.engine.Command;
import io.hoist.broker.engine.Outcome;
import io.hoist.broker.metrics.BrokerMetrics;
import io.hoist.broker.store.DiskSpace;
import io.hoist.broker.store.Store;
import io.hoist.broker.store.rocksdb.RocksStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The composition root: the one place that wires the store, the engine loop and the adapters
 * together. {@link #start()} opens them in order; {@link #close()} stops taking calls, finishes
 * the round in flight and closes the store.
 */
public final class BrokerServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerServer.class);

    private final BrokerConfig config;
    private final Clock clock;
    private final DiskSpace.Source freeSpace;
    private Store store;
    private EngineLoop loop;
    private GrpcApi api;
    private Server grpc;
    private HealthStatusManager health;
    private HttpEndpoints http;
    private ConnectionLimit connections;
    private BrokerMetrics metrics;
    private volatile boolean closed;

    public BrokerServer(BrokerConfig config, Clock clock) {
        this(config, clock, DiskSpace.fileSystemOf(config.dataDir()));
    }

    /** @param freeSpace how much room the data dir has left (tests decide it) */
    public BrokerServer(BrokerConfig config, Clock clock, DiskSpace.Source freeSpace) {
        this.config = config;
        this.clock = clock;
        this.freeSpace = freeSpace;
    }

    public BrokerServer start() throws IOException, InterruptedException {
        SecurityConfig security = config.security();
        // a bad tokens or TLS file stops the start before the store opens
        Tokens tokens = security.tokens() ? TokenFile.load(security.tokensFile()) : null;
        var grpcTls = security.tls() ? TlsContexts.grpc(security) : null;
        var httpTls = security.tls() ? TlsContexts.http(security) : null;
        store = RocksStore.open(config.dataDir());
        metrics = new BrokerMetrics(store::sizeBytes, store::figure);
        DiskSpace disk = new DiskSpace(config.dataDir(), config.minFreeDiskBytes(), freeSpace, clock);
        metrics.watchDisk(disk);
        loop = new EngineLoop(engineConfig(config), store, clock, config.fsync(), config.fsyncInterval().toMillis(),
                metrics, disk);
        loop.start();
        health = new HealthStatusManager();
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.grpcPort()))
                .directExecutor() // handlers only validate and queue a command; they never block
                .maxInboundMessageSize(config.maxInboundMessageBytes())
                .maxConcurrentCallsPerConnection(security.maxConcurrentStreams());
        if (grpcTls != null) {
            builder.sslContext(grpcTls);
        }
        connections = new ConnectionLimit(security.maxConnections());
        connections.applyTo(builder);
        if (tokens != null) {
            builder.intercept(new AuthInterceptor(tokens)); // added first so it runs inside the metrics interceptor: refusals are counted
        }
        builder.intercept(metrics.grpcInterceptor())
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .addService(ProtoReflectionService.newInstance());
        api = new GrpcApi(loop, store, config);
        for (BindableService s : api.services()) {
            builder.addService(s);
        }
        grpc = builder.build().start();
        http = new HttpEndpoints(config.host(), config.httpPort(), httpTls,
                security.metricsAuth() ? new MetricsGuard(tokens) : MetricsAccess.OPEN, this::deadReason,
                this::notReadyReason, this::scrape);
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
        log.info("hoist broker serving gRPC on {}:{} and HTTP on {}:{}, data in {}, fsync {}",
                config.host(), grpcPort(), config.host(), httpPort(), config.dataDir().toAbsolutePath(),
                config.fsync().name().toLowerCase());
        log.info("security: tls={} client-certificates={} tokens={} metrics-auth={} max-concurrent-streams={} max-connections={}",
                security.tls() ? "on" : "off", security.mutualTls() ? "required" : "not asked",
                tokens == null ? "off (no authentication)" : tokens.size() + " from " + security.tokensFile(),
                security.metricsAuth() ? "on" : "off", security.maxConcurrentStreams(), security.maxConnections());
        for (String warning : ExposureWarnings.of(config.host(), security)) {
            log.warn(warning);
        }
        return this;
    }

    static EngineConfig engineConfig(BrokerConfig c) {
        return new EngineConfig(c.sessionTimeout().toMillis(), c.heartbeatInterval().toMillis(),
                c.retention().toMillis(), RetryPolicy.DEFAULT, EngineConfig.DEFAULTS.defaultLeaseDurationMillis(),
                EngineConfig.DEFAULTS.defaultTimeoutMillis(), EngineConfig.DEFAULTS.maxLeaseWaitMillis());
    }

    /** Metrics text, with the queue and worker gauges read from the engine just before. */
    private String scrape() {
        try {
            Outcome queues = loop.submit(new Command.ListQueues()).get(2, TimeUnit.SECONDS);
            Outcome workers = loop.submit(new Command.ListWorkers()).get(2, TimeUnit.SECONDS);
            if (queues instanceof Outcome.Queues q && workers instanceof Outcome.Workers w) {
                metrics.update(q.queues(), w.workers().size());
            }
        } catch (ExecutionException | TimeoutException e) {
            log.warn("metrics: could not read queue counts from the engine: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return metrics.scrape();
    }

    /** Why the broker can no longer serve although its process runs, or null: for /healthz. */
    private String deadReason() {
        return !closed && !loop.isRunning() ? "the engine thread has stopped (see the log)" : null;
    }

    private String notReadyReason() {
        if (closed) {
            return "shutting down";
        }
        if (!loop.isRunning()) {
            return "the engine is not running";
        }
        return loop.storeProblem();
    }

    public int grpcPort() {
        return grpc.getPort();
    }

    public int httpPort() {
        return http.port();
    }

    /** Blocks until the gRPC server has terminated. */
    public void awaitTermination() throws InterruptedException {
        grpc.awaitTermination();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        log.info("shutting down: no new calls; finishing the calls in flight");
        if (health != null) {
            health.enterTerminalState();
        }
        if (grpc != null) {
            grpc.shutdown();
        }
        if (loop != null) {
            loop.close(); // answers parked leases, finishes queued commands and the round in flight
        }
        if (api != null) {
            api.endWorkerStreams();
        }
        if (grpc != null) {
            try {
                if (!grpc.awaitTermination(5, TimeUnit.SECONDS)) {
                    grpc.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                grpc.shutdownNow();
            }
        }
        if (connections != null) {
            connections.close(); // gRPC leaves the event loops it was given running
        }
        if (http != null) {
            http.close();
        }
        if (store != null) {
            store.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        log.info("stopped");
    }
}
