package io.hoist.broker.cli;

import io.hoist.proto.v1.ListQueuesRequest;
import io.hoist.proto.v1.ListWorkersRequest;
import io.hoist.proto.v1.QueueInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;

/** {@code hoist stats}: a live view of every queue, refreshed every second until Ctrl-C. */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = "Shows every queue live (depths and rates per second), refreshed every second until Ctrl-C.")
final class StatsCommand implements Callable<Integer> {
    @Mixin
    BrokerConnection broker;

    @Option(names = "--count", paramLabel = "N", defaultValue = "0",
            description = "Stop after N refreshes (0 = until Ctrl-C). Default: ${DEFAULT-VALUE}")
    int count;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "1s", converter = ServeCommand.DurationConverter.class,
            description = "Time between refreshes. Default: ${DEFAULT-VALUE}")
    java.time.Duration interval;

    @Override
    public Integer call() {
        return broker.call(() -> {
            Map<String, QueueInfo> previous = new HashMap<>();
            long previousNanos = 0;
            for (int i = 0; count == 0 || i < count; i++) {
                long nanos = System.nanoTime();
                var queues = broker.admin().listQueues(ListQueuesRequest.getDefaultInstance()).getQueuesList();
                int workers = broker.admin().listWorkers(ListWorkersRequest.getDefaultInstance()).getWorkersCount();
                if (broker.json) {
                    broker.printJson(io.hoist.proto.v1.ListQueuesResponse.newBuilder().addAllQueues(queues).build());
                } else {
                    double seconds = previousNanos == 0 ? 0 : (nanos - previousNanos) / 1e9;
                    render(broker.out(), queues, previous, seconds, workers, i == 0);
                }
                previous.clear();
                queues.forEach(q -> previous.put(q.getName(), q));
                previousNanos = nanos;
                if (count == 0 || i < count - 1) {
                    LockSupport.parkNanos(interval.toNanos());
                    if (Thread.interrupted()) {
                        return;
                    }
                }
            }
        });
    }

    private static void render(PrintWriter out, java.util.List<QueueInfo> queues, Map<String, QueueInfo> previous,
                               double seconds, int workers, boolean first) {
        if (!first && System.console() != null) {
            out.print("\033[H\033[2J"); // clear the terminal between refreshes
        }
        out.printf("hoist stats  %s  workers: %d%n", LocalTime.now().truncatedTo(ChronoUnit.SECONDS), workers);
        Table t = new Table("QUEUE", "PAUSED", "READY", "SCHEDULED", "LEASED", "DEAD", "ENQ/S", "LEASE/S", "ACK/S", "DEAD/S");
        for (QueueInfo q : queues) {
            QueueInfo p = previous.get(q.getName());
            t.row(q.getName(), q.getConfig().getPaused() ? "yes" : "no", q.getReady(), q.getScheduled(), q.getLeased(),
                    q.getDead(), rate(q.getEnqueuedTotal(), p == null ? -1 : p.getEnqueuedTotal(), seconds),
                    rate(q.getLeasedTotal(), p == null ? -1 : p.getLeasedTotal(), seconds),
                    rate(q.getAckedTotal(), p == null ? -1 : p.getAckedTotal(), seconds),
                    rate(q.getDeadTotal(), p == null ? -1 : p.getDeadTotal(), seconds));
        }
        t.print(out);
        out.println();
        out.flush();
    }

    private static String rate(long now, long before, double seconds) {
        if (before < 0 || seconds <= 0) {
            return "-";
        }
        return String.format("%.1f", Math.max(0, now - before) / seconds);
    }
}
