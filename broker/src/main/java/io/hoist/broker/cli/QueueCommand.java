package io.hoist.broker.cli;

import com.google.protobuf.FieldMask;
import com.google.protobuf.util.Durations;
import io.hoist.proto.v1.PurgeQueueRequest;
import io.hoist.proto.v1.PurgeQueueResponse;
import io.hoist.proto.v1.QueueConfig;
import io.hoist.proto.v1.QueueInfo;
import io.hoist.proto.v1.RetryPolicy;
import io.hoist.proto.v1.UpdateQueueRequest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code hoist queue pause|resume|purge|config NAME}. */
@Command(name = "queue", mixinStandardHelpOptions = true,
        description = "Changes one queue: pause or resume it, purge its waiting jobs, or set its limits and defaults.",
        subcommands = {QueueCommand.Pause.class, QueueCommand.Resume.class, QueueCommand.Purge.class,
                QueueCommand.Config.class})
final class QueueCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static void printQueue(BrokerConnection broker, QueueInfo q) {
        if (broker.json) {
            broker.printJson(q);
            return;
        }
        QueueConfig c = q.getConfig();
        broker.out().printf("queue %s: %s, ready %d, scheduled %d, leased %d, dead %d%n", q.getName(),
                c.getPaused() ? "paused" : "running", q.getReady(), q.getScheduled(), q.getLeased(), q.getDead());
        broker.out().printf("  limits: %s%n", QueuesCommand.limits(q));
        StringBuilder defaults = new StringBuilder();
        RetryPolicy r = c.getRetry();
        if (r.hasMaxAttempts()) defaults.append(" max-attempts=").append(r.getMaxAttempts());
        if (r.hasInitialBackoff()) defaults.append(" initial-backoff=").append(seconds(r.getInitialBackoff()));
        if (r.hasMaxBackoff()) defaults.append(" max-backoff=").append(seconds(r.getMaxBackoff()));
        if (r.hasMultiplier()) defaults.append(" multiplier=").append(r.getMultiplier());
        if (r.hasJitter()) defaults.append(" jitter=").append(r.getJitter());
        if (c.hasLeaseDuration()) defaults.append(" lease-duration=").append(seconds(c.getLeaseDuration()));
        if (c.hasTimeout()) defaults.append(" timeout=").append(seconds(c.getTimeout()));
        if (defaults.length() > 0) {
            broker.out().printf("  defaults:%s%n", defaults);
        }
        broker.out().flush();
    }

    private static String seconds(com.google.protobuf.Duration d) {
        return io.hoist.broker.config.DurationFormat.format(java.time.Duration.ofSeconds(d.getSeconds(), d.getNanos()));
    }

    static QueueInfo update(BrokerConnection broker, String name, QueueConfig config, List<String> paths) {
        return broker.admin().updateQueue(UpdateQueueRequest.newBuilder().setName(name).setConfig(config)
                .setUpdateMask(FieldMask.newBuilder().addAllPaths(paths)).build());
    }

    @Command(name = "pause", mixinStandardHelpOptions = true,
            description = "Stops the queue from handing out jobs (enqueue still works). Takes effect at once.")
    static final class Pause implements Callable<Integer> {
        @Mixin
        BrokerConnection broker;
        @Parameters(paramLabel = "NAME", description = "The queue.")
        String name;

        @Override
        public Integer call() {
            return broker.call(() -> printQueue(broker, update(broker, name,
                    QueueConfig.newBuilder().setPaused(true).build(), List.of("paused"))));
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Lets a paused queue hand out jobs again.")
    static final class Resume implements Callable<Integer> {
        @Mixin
        BrokerConnection broker;
        @Parameters(paramLabel = "NAME", description = "The queue.")
        String name;

        @Override
        public Integer call() {
            return broker.call(() -> printQueue(broker, update(broker, name,
                    QueueConfig.newBuilder().setPaused(false).build(), List.of("paused"))));
        }
    }

    @Command(name = "purge", mixinStandardHelpOptions = true,
            description = {"Deletes the queue's SCHEDULED and READY jobs (LEASED and DEAD jobs stay).",
                    "Cannot be undone: needs --yes."})
    static final class Purge implements Callable<Integer> {
        @Mixin
        BrokerConnection broker;
        @Parameters(paramLabel = "NAME", description = "The queue.")
        String name;
        @Option(names = "--yes", description = "Really delete.")
        boolean yes;

        @Override
        public Integer call() {
            if (!yes) {
                broker.spec.commandLine().getErr().println("hoist: purge deletes every waiting job of " + name
                        + " for good; run again with --yes to do it");
                return 2;
            }
            return broker.call(() -> {
                PurgeQueueResponse r = broker.admin().purgeQueue(PurgeQueueRequest.newBuilder().setName(name).build());
                if (broker.json) {
                    broker.printJson(r);
                } else {
                    broker.out().printf("purged %d jobs from %s%n", r.getRemoved(), name);
                    broker.out().flush();
                }
            });
        }
    }

    @Command(name = "config", mixinStandardHelpOptions = true,
            description = {"Shows the queue's settings, or changes those given (creating the queue if new).",
                    "Limits act at once; defaults apply to jobs enqueued afterwards. Settings survive restarts.",
                    "Use 0 to remove a limit, and --clear NAME to unset a default."})
    static final class Config implements Callable<Integer> {
        @Mixin
        BrokerConnection broker;
        @Parameters(paramLabel = "NAME", description = "The queue.")
        String name;
        @Option(names = "--rate-limit", paramLabel = "PER_SECOND", description = "Most leases per second (0 = none).")
        Double rateLimit;
        @Option(names = "--max-in-flight", paramLabel = "N", description = "Most jobs LEASED at once (0 = none).")
        Integer maxInFlight;
        @Option(names = "--max-depth", paramLabel = "N",
                description = "Most jobs SCHEDULED + READY + LEASED; an Enqueue past it is refused whole (0 = none).")
        Long maxDepth;
        @Option(names = "--max-attempts", paramLabel = "N", description = "Default deliveries per job.")
        Integer maxAttempts;
        @Option(names = "--initial-backoff", paramLabel = "DURATION", converter = ServeCommand.DurationConverter.class,
                description = "Default backoff after the first failure.")
        java.time.Duration initialBackoff;
        @Option(names = "--max-backoff", paramLabel = "DURATION", converter = ServeCommand.DurationConverter.class,
                description = "Default cap on the backoff.")
        java.time.Duration maxBackoff;
        @Option(names = "--lease-duration", paramLabel = "DURATION", converter = ServeCommand.DurationConverter.class,
                description = "Default lease without a heartbeat.")
        java.time.Duration leaseDuration;
        @Option(names = "--timeout", paramLabel = "DURATION", converter = ServeCommand.DurationConverter.class,
                description = "Default longest run of one attempt.")
        java.time.Duration timeout;
        @Option(names = "--clear", paramLabel = "FIELD",
                description = "Unsets a setting: rate_limit, max_in_flight, max_depth, retry, lease_duration, timeout.")
        List<String> clear = new ArrayList<>();

        @Override
        public Integer call() {
            QueueConfig.Builder c = QueueConfig.newBuilder();
            List<String> paths = new ArrayList<>(clear);
            if (rateLimit != null) { c.setRateLimit(rateLimit); paths.add("rate_limit"); }
            if (maxInFlight != null) { c.setMaxInFlight(maxInFlight); paths.add("max_in_flight"); }
            if (maxDepth != null) { c.setMaxDepth(maxDepth); paths.add("max_depth"); }
            RetryPolicy.Builder r = RetryPolicy.newBuilder();
            if (maxAttempts != null) { r.setMaxAttempts(maxAttempts); paths.add("retry.max_attempts"); }
            if (initialBackoff != null) { r.setInitialBackoff(Durations.fromNanos(initialBackoff.toNanos())); paths.add("retry.initial_backoff"); }
            if (maxBackoff != null) { r.setMaxBackoff(Durations.fromNanos(maxBackoff.toNanos())); paths.add("retry.max_backoff"); }
            if (!r.build().equals(RetryPolicy.getDefaultInstance())) c.setRetry(r);
            if (leaseDuration != null) { c.setLeaseDuration(Durations.fromNanos(leaseDuration.toNanos())); paths.add("lease_duration"); }
            if (timeout != null) { c.setTimeout(Durations.fromNanos(timeout.toNanos())); paths.add("timeout"); }
            return broker.call(() -> {
                QueueInfo q = paths.isEmpty() ? show() : update(broker, name, c.build(), paths);
                printQueue(broker, q);
            });
        }

        private QueueInfo show() {
            return broker.admin().listQueues(io.hoist.proto.v1.ListQueuesRequest.getDefaultInstance()).getQueuesList()
                    .stream().filter(q -> q.getName().equals(name)).findFirst()
                    .orElseThrow(() -> new CommandLine.ParameterException(broker.spec.commandLine(),
                            "no queue named " + name + " (a queue exists once used or configured)"));
        }
    }
}
