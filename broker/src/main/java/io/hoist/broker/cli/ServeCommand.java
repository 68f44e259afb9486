package io.hoist.broker.cli;

import io.hoist.broker.BrokerServer;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.broker.config.ByteSizeFormat;
import io.hoist.broker.config.DurationFormat;
import io.hoist.broker.config.SecurityConfig;
import io.hoist.broker.runtime.FsyncPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code hoist serve}: runs the broker until SIGTERM or Ctrl-C. */
@Command(name = "serve",
        mixinStandardHelpOptions = true,
        description = {"Runs the broker: gRPC for producers and workers, HTTP for health checks.",
                "Stops cleanly on SIGTERM or Ctrl-C: no new calls, the calls in flight finish, the store closes."},
        footer = {"", "Each setting comes from its flag, else its HOIST_* variable, else the config file, else the default.",
                "The config file is YAML keyed by flag name, e.g.:  grpc-port: 7070   fsync: always   retention: 10m",
                "Durations are written 500ms, 3s, 5m, 1h.",
                "Beyond loopback: --tokens-file, --tls-cert, --tls-key (docs/operations.md)."})
public final class ServeCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "./hoist-data",
            description = "Where the store lives (created if missing). Env HOIST_DATA_DIR. Default: ${DEFAULT-VALUE}")
    Path dataDir;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to listen on; 0.0.0.0 for remote workers. Env HOIST_HOST. Default: ${DEFAULT-VALUE}")
    String host;

    @Option(names = "--grpc-port", paramLabel = "PORT", defaultValue = "7070",
            description = "gRPC port for producers, workers and the CLI. Env HOIST_GRPC_PORT. Default: ${DEFAULT-VALUE}")
    int grpcPort;

    @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "7071",
            description = "HTTP port for /healthz, /readyz and /metrics. Env HOIST_HTTP_PORT. Default: ${DEFAULT-VALUE}")
    int httpPort;

    @Option(names = "--fsync", paramLabel = "POLICY", defaultValue = "always",
            converter = FsyncConverter.class,
            description = {"When writes are forced to disk before the answer:",
                    "  always    every answer after its write is on disk (survives a power cut)",
                    "  interval  synced at most every --fsync-interval (survives a process crash)",
                    "  never     left to the operating system",
                    "Env HOIST_FSYNC. Default: ${DEFAULT-VALUE}"})
    FsyncPolicy fsync;

    @Option(names = "--fsync-interval", paramLabel = "DURATION", defaultValue = "50ms",
            converter = DurationConverter.class,
            description = "With --fsync interval: the longest time between syncs. Env HOIST_FSYNC_INTERVAL. Default: ${DEFAULT-VALUE}")
    Duration fsyncInterval;

    @Option(names = "--session-timeout", paramLabel = "DURATION", defaultValue = "10s",
            converter = DurationConverter.class,
            description = "A worker silent this long is gone and its jobs go to others. Env HOIST_SESSION_TIMEOUT. Default: ${DEFAULT-VALUE}")
    Duration sessionTimeout;

    @Option(names = "--heartbeat-interval", paramLabel = "DURATION", defaultValue = "2s",
            converter = DurationConverter.class,
            description = "How often workers are told to heartbeat. Env HOIST_HEARTBEAT_INTERVAL. Default: ${DEFAULT-VALUE}")
    Duration heartbeatInterval;

    @Option(names = "--max-payload-bytes", paramLabel = "BYTES", defaultValue = "1048576",
            description = "Largest payload plus headers of one job. Env HOIST_MAX_PAYLOAD_BYTES. Default: ${DEFAULT-VALUE}")
    int maxPayloadBytes;

    @Option(names = "--retention", paramLabel = "DURATION", defaultValue = "5m",
            converter = DurationConverter.class,
            description = "How long SUCCEEDED and CANCELED jobs stay visible, at ~34 B of heap each meanwhile (DEAD ones stay until requeued or deleted). Env HOIST_RETENTION. Default: ${DEFAULT-VALUE}")
    Duration retention;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "1000",
            description = "Most jobs in one Enqueue call. Env HOIST_MAX_BATCH. Default: ${DEFAULT-VALUE}")
    int maxBatch;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate (chain) of the broker: gRPC and HTTP serve TLS. Needs --tls-key. Env HOIST_TLS_CERT.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "PEM private key of --tls-cert, unencrypted PKCS#8 ('BEGIN PRIVATE KEY'). Env HOIST_TLS_KEY.")
    Path tlsKey;

    @Option(names = "--tls-client-ca", paramLabel = "FILE",
            description = "PEM CA certificates: gRPC clients must present a certificate signed by one (mutual TLS). Env HOIST_TLS_CLIENT_CA.")
    Path tlsClientCa;

    @Option(names = "--tokens-file", paramLabel = "FILE",
            description = "YAML file of accepted tokens (hashed secrets; roles producer, worker, admin; optional queue patterns):"
                    + " every gRPC call then needs 'authorization: Bearer <secret>'. Mint one with 'hoist token create'."
                    + " Without it there is no authentication. Env HOIST_TOKENS_FILE.")
    Path tokensFile;

    @Option(names = "--metrics-auth", paramLabel = "BOOLEAN", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            description = "/metrics only for an admin token (Authorization: Bearer); needs --tokens-file. Env HOIST_METRICS_AUTH. Default: ${DEFAULT-VALUE}")
    boolean metricsAuth;

    @Option(names = "--max-concurrent-streams", paramLabel = "N", defaultValue = "1000",
            description = "Calls in flight on one gRPC connection; more wait. Env HOIST_MAX_CONCURRENT_STREAMS. Default: ${DEFAULT-VALUE}")
    int maxConcurrentStreams;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "10000",
            description = "Open gRPC connections; more are closed at once. Env HOIST_MAX_CONNECTIONS. Default: ${DEFAULT-VALUE}")
    int maxConnections;

    @Option(names = "--min-free-disk", paramLabel = "SIZE", defaultValue = "256MiB", converter = ByteSizeConverter.class,
            description = {"Below this much free space in --data-dir, enqueues are refused (RESOURCE_EXHAUSTED, DISK_FULL)",
                    "and /readyz answers 503, while acks, nacks and leases go on; 0 turns it off. Sizes: 4096, 512KiB, 64MiB, 1GiB.",
                    "Env HOIST_MIN_FREE_DISK. Default: ${DEFAULT-VALUE}"})
    long minFreeDisk;

    @Option(names = "--config", paramLabel = "FILE",
            description = "A YAML file of settings keyed by flag name (grpc-port: 7070). Env HOIST_CONFIG.")
    Path configFile;

    @Option(names = "--log-format", paramLabel = "FORMAT", defaultValue = "text",
            converter = LogFormatConverter.class,
            description = "text, or json (one object a line, for log shippers). Env HOIST_LOG_FORMAT. Default: ${DEFAULT-VALUE}")
    LogFormat logFormat;

    @Option(names = "--print-config", description = "Print the effective settings (after flags, variables and file) and exit.")
    boolean printConfig;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        checkFileKeys();
        if (printConfig) {
            printConfig();
            return 0;
        }
        logFormat.apply();
        BrokerConfig config;
        try {
            config = new BrokerConfig(dataDir, host, grpcPort, httpPort, fsync, fsyncInterval, sessionTimeout,
                    heartbeatInterval, maxPayloadBytes, retention, maxBatch)
                    .withSecurity(new SecurityConfig(tlsCert, tlsKey, tlsClientCa, tokensFile, metricsAuth,
                            maxConcurrentStreams, maxConnections))
                    .withMinFreeDisk(minFreeDisk);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        BrokerServer server = new BrokerServer(config, Clock.systemUTC());
        try {
            server.start();
        } catch (Exception e) {
            log.error("the broker could not start: {}", e.getMessage());
            server.close();
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "hoist-shutdown"));
        server.awaitTermination();
        return 0;
    }

    /** A key of the config file that names no flag is a mistake worth stopping for. */
    private void checkFileKeys() {
        if (spec.defaultValueProvider() instanceof ServeDefaults defaults) {
            for (String key : defaults.fileKeys()) {
                if (spec.findOption("--" + key) == null || key.equals("config") || key.equals("print-config")) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "config file " + defaults.file()
                            + ": unknown setting '" + key + "' (the keys are the flag names of hoist serve --help)");
                }
            }
        }
    }

    private void printConfig() {
        java.io.PrintWriter out = spec.commandLine().getOut();
        out.println("# effective settings of hoist serve (flag > HOIST_* variable > config file > default)");
        for (CommandLine.Model.OptionSpec o : spec.options()) {
            String name = o.longestName();
            if (o.usageHelp() || o.versionHelp() || name.equals("--print-config") || name.equals("--config")) {
                continue;
            }
            Object value = o.getValue();
            String shown = value == null ? "" // unset: an empty YAML value
                    : name.equals("--min-free-disk") ? ByteSizeFormat.format((Long) value)
                    : value instanceof Duration d ? DurationFormat.format(d)
                    : value instanceof Enum<?> e ? e.name().toLowerCase(java.util.Locale.ROOT) : String.valueOf(value);
            out.println(name.substring(2) + ": " + shown);
        }
        out.flush();
    }

    static final class LogFormatConverter implements CommandLine.ITypeConverter<LogFormat> {
        @Override
        public LogFormat convert(String value) {
            try {
                return LogFormat.valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a log format: use text or json");
            }
        }
    }

    static final class ByteSizeConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return ByteSizeFormat.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return DurationFormat.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class FsyncConverter implements CommandLine.ITypeConverter<FsyncPolicy> {
        @Override
        public FsyncPolicy convert(String value) {
            try {
                return FsyncPolicy.valueOf(value.trim().toUpperCase());
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not an fsync policy: use always, interval or never");
            }
        }
    }
}
