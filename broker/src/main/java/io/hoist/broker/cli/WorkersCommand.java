package io.hoist.broker.cli;

import io.hoist.proto.v1.ListWorkersRequest;
import io.hoist.proto.v1.ListWorkersResponse;
import io.hoist.proto.v1.WorkerInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;

/** {@code hoist workers}: the live worker sessions. */
@Command(name = "workers", mixinStandardHelpOptions = true,
        description = "Lists the live workers: their queues, concurrency, jobs held and when they were last heard from.")
final class WorkersCommand implements Callable<Integer> {
    @Mixin
    BrokerConnection broker;

    @Override
    public Integer call() {
        return broker.call(() -> {
            ListWorkersResponse r = broker.admin().listWorkers(ListWorkersRequest.getDefaultInstance());
            if (broker.json) {
                broker.printJson(r);
                return;
            }
            Table t = new Table("WORKER", "NAME", "QUEUES", "CONCURRENCY", "IN FLIGHT", "LAST SEEN");
            Instant now = Instant.now();
            for (WorkerInfo w : r.getWorkersList()) {
                Instant seen = Instant.ofEpochSecond(w.getLastHeartbeat().getSeconds(), w.getLastHeartbeat().getNanos());
                t.row(w.getWorkerId(), w.getName(), String.join(",", w.getQueuesList()),
                        w.getConcurrency() == 0 ? "-" : String.valueOf(w.getConcurrency()), w.getInFlight(),
                        Math.max(0, Duration.between(seen, now).toMillis()) / 1000.0 + "s ago");
            }
            t.print(broker.out());
        });
    }
}
