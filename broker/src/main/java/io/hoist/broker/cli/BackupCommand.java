package io.hoist.broker.cli;

import io.hoist.proto.v1.CreateCheckpointRequest;
import io.hoist.proto.v1.CreateCheckpointResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code hoist backup --to DIR}: an online, consistent copy of the broker's store. */
@Command(name = "backup", mixinStandardHelpOptions = true,
        header = "Writes a consistent copy of the broker's store into a new directory, while it serves.",
        description = {"Writes a consistent copy of the broker's whole store (a RocksDB checkpoint) into a new",
                "directory on the broker's machine, while the broker keeps serving. To restore: stop the broker,",
                "put the copy in place of its --data-dir, start it. See docs/operations.md."})
final class BackupCommand implements Callable<Integer> {
    @Mixin
    BrokerConnection broker;

    @Option(names = "--to", required = true, paramLabel = "DIR",
            description = "Absolute path on the broker's machine; must not exist yet (same filesystem = hard links, fast).")
    String target;

    @Override
    public Integer call() {
        return broker.call(() -> {
            CreateCheckpointResponse r = broker.admin().createCheckpoint(CreateCheckpointRequest.newBuilder().setPath(target).build());
            if (broker.json) {
                broker.printJson(r);
            } else {
                broker.out().printf("checkpoint written to %s (%,d bytes)%n", r.getPath(), r.getSizeBytes());
                broker.out().flush();
            }
        });
    }
}
