package io.hoist.loadtest;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** W1: acknowledged enqueues per second. */
@Command(name = "enqueue", mixinStandardHelpOptions = true,
        description = "W1: enqueue --jobs jobs with --producers producers, each with at most --in-flight calls unanswered; acknowledged jobs/s.")
final class EnqueueCommand implements Callable<Integer> {

    @Mixin
    CommonOptions common;

    @Option(names = "--jobs", defaultValue = "200000", description = "jobs to enqueue (default: ${DEFAULT-VALUE})")
    long jobs;

    @Option(names = "--producers", defaultValue = "4", description = "producer threads, one channel each (default: ${DEFAULT-VALUE})")
    int producers;

    @Option(names = "--in-flight", defaultValue = "64", description = "unanswered Enqueue calls per producer (default: ${DEFAULT-VALUE})")
    int inFlight;

    @Option(names = "--batch", defaultValue = "1", description = "jobs per Enqueue call (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--stream", description = "send the batches on one EnqueueStream per producer instead of one Enqueue call each")
    boolean stream;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String queue = common.queueFor("enqueue");
        Enqueuer enqueuer = new Enqueuer(common.broker, queue, producers, inFlight, batch, common.payloadBytes, stream);
        long elapsed;
        try (ProgressBar bar = common.progressBar("enqueue", jobs, enqueuer.stored::get)) {
            elapsed = enqueuer.run(jobs, common.timeoutNanos());
        }
        double seconds = elapsed / 1e9;
        Summary s = new Summary()
                .put("scenario", "enqueue")
                .put("queue", queue)
                .put("producers", producers)
                .put("in_flight", inFlight)
                .put("batch", batch)
                .put("transport", stream ? "EnqueueStream" : "Enqueue calls")
                .put("payload_bytes", common.payloadBytes)
                .put("jobs", jobs)
                .put("stored", enqueuer.stored.get())
                .put("failed", enqueuer.failed.get())
                .put("seconds", Summary.round3(seconds))
                .put("jobs_per_second", Math.round(enqueuer.stored.get() / seconds));
        Report.print(spec, common, s);
        return enqueuer.stored.get() == jobs ? 0 : 1;
    }
}
