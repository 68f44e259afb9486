package io.hoist.loadtest;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** W2: prefill a queue, then drain it with acks; jobs/s until empty. */
@Command(name = "drain", mixinStandardHelpOptions = true,
        description = "W2: prefill --jobs jobs (batches of 100), then drain them with --consumers consumers x --in-flight jobs each, acking each; jobs/s until empty.")
final class DrainCommand implements Callable<Integer> {

    enum Mode { sdk, raw, stream }

    @Mixin
    CommonOptions common;

    @Option(names = "--jobs", defaultValue = "200000", description = "jobs to prefill and drain (default: ${DEFAULT-VALUE})")
    long jobs;

    @Option(names = "--consumers", defaultValue = "4", description = "consumers (SDK Workers or raw sessions) (default: ${DEFAULT-VALUE})")
    int consumers;

    @Option(names = "--in-flight", defaultValue = "16", description = "jobs held at once per consumer (default: ${DEFAULT-VALUE})")
    int inFlight;

    @Option(names = "--mode", defaultValue = "sdk", description = "sdk: the SDK's Worker with a no-op handler; raw: Lease and Ack RPCs; stream: the WorkerStream RPC without the SDK (default: ${DEFAULT-VALUE})")
    Mode mode;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String queue = common.queueFor("drain");
        // the prefill is not what is measured: batch it so that it does not dominate the run
        Enqueuer prefill = new Enqueuer(common.broker, queue, 4, 16, 100, common.payloadBytes);
        try (ProgressBar bar = common.progressBar("prefill", jobs, prefill.stored::get)) {
            prefill.run(jobs, common.timeoutNanos());
        }
        long toDrain = prefill.stored.get();
        Drainer drainer = switch (mode) {
            case sdk -> new SdkDrainer(common.broker, queue, consumers, inFlight);
            case raw -> new RawDrainer(common.broker, queue, consumers, inFlight);
            case stream -> new StreamDrainer(common.broker, queue, consumers, inFlight);
        };
        long elapsed;
        try (ProgressBar bar = common.progressBar("drain", toDrain, drainer::acked)) {
            elapsed = drainer.run(toDrain, common.timeoutNanos());
        }
        double seconds = elapsed / 1e9;
        Summary s = new Summary()
                .put("scenario", "drain")
                .put("mode", mode.name())
                .put("queue", queue)
                .put("consumers", consumers)
                .put("in_flight", inFlight)
                .put("payload_bytes", common.payloadBytes)
                .put("jobs", toDrain)
                .put("acked", drainer.acked())
                .put("refused", drainer.refused())
                .put("seconds", Summary.round3(seconds))
                .put("jobs_per_second", Math.round(drainer.acked() / seconds));
        Report.print(spec, common, s);
        return toDrain == jobs && drainer.acked() == toDrain ? 0 : 1;
    }
}
