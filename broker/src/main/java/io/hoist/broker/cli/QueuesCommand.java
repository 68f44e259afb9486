package io.hoist.broker.cli;

import io.hoist.proto.v1.ListQueuesRequest;
import io.hoist.proto.v1.ListQueuesResponse;
import io.hoist.proto.v1.QueueInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/** {@code hoist queues}: every queue with its counts per state and its limits. */
@Command(name = "queues", mixinStandardHelpOptions = true,
        description = {"Lists every queue: paused, jobs per state, totals since the broker started, limits.",
                "For live rates use 'hoist stats'."})
final class QueuesCommand implements Callable<Integer> {
    @Mixin
    BrokerConnection broker;

    @Override
    public Integer call() {
        return broker.call(() -> {
            ListQueuesResponse r = broker.admin().listQueues(ListQueuesRequest.getDefaultInstance());
            if (broker.json) {
                broker.printJson(r);
                return;
            }
            Table t = new Table("QUEUE", "PAUSED", "READY", "SCHEDULED", "LEASED", "DEAD", "ENQUEUED", "ACKED", "LIMITS");
            for (QueueInfo q : r.getQueuesList()) {
                t.row(q.getName(), q.getConfig().getPaused() ? "yes" : "no", q.getReady(), q.getScheduled(), q.getLeased(),
                        q.getDead(), q.getEnqueuedTotal(), q.getAckedTotal(), limits(q));
            }
            t.print(broker.out());
        });
    }

    static String limits(QueueInfo q) {
        StringBuilder sb = new StringBuilder();
        if (q.getConfig().getRateLimit() > 0) sb.append("rate=").append(q.getConfig().getRateLimit()).append("/s ");
        if (q.getConfig().getMaxInFlight() > 0) sb.append("in-flight<=").append(q.getConfig().getMaxInFlight()).append(' ');
        if (q.getConfig().getMaxDepth() > 0) sb.append("depth<=").append(q.getConfig().getMaxDepth()).append(' ');
        return sb.length() == 0 ? "-" : sb.toString().trim();
    }
}
