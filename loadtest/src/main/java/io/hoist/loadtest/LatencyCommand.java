package io.hoist.loadtest;

import io.hoist.sdk.Worker;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** W3: enqueue at a constant rate; latency from each job's intended send time to the start of its handler. */
@Command(name = "latency", mixinStandardHelpOptions = true,
        description = "W3: --rate jobs/s for --warmup + --duration seconds, consumed by --consumers SDK Workers; enqueue -> handler-start latency of the jobs after the warm-up (HdrHistogram, from the intended send time).")
final class LatencyCommand implements Callable<Integer> {

    @Mixin
    CommonOptions common;

    @Option(names = "--rate", defaultValue = "2000", description = "jobs per second (default: ${DEFAULT-VALUE})")
    long rate;

    @Option(names = "--duration", defaultValue = "20", description = "seconds of sending (default: ${DEFAULT-VALUE})")
    long durationSeconds;

    @Option(names = "--warmup", defaultValue = "5",
            description = "seconds sent at the same rate first and not recorded, while the JIT of a fresh broker and client"
                    + " compiles (default: ${DEFAULT-VALUE}; 0 records from the first job)")
    long warmupSeconds;

    @Option(names = "--consumers", defaultValue = "4", description = "SDK Workers (default: ${DEFAULT-VALUE})")
    int consumers;

    @Option(names = "--in-flight", defaultValue = "16", description = "jobs held at once per Worker (default: ${DEFAULT-VALUE})")
    int inFlight;

    @Option(names = "--producers", defaultValue = "4", description = "producer threads (default: ${DEFAULT-VALUE})")
    int producers;

    @Option(names = "--stream", description = "each producer sends its jobs on one EnqueueStream instead of one Enqueue call each")
    boolean stream;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String queue = common.queueFor("latency");
        // microseconds up to an hour, 3 significant digits
        Histogram histogram = new ConcurrentHistogram(TimeUnit.HOURS.toMicros(1), 3);
        AtomicLong handled = new AtomicLong();
        CountDownLatch allHandled = new CountDownLatch(1);
        AtomicLong total = new AtomicLong(-1); // set before the first job is sent
        AtomicLong recordFrom = new AtomicLong(Long.MAX_VALUE); // intended times before it are the warm-up
        List<Worker> workers = new ArrayList<>();
        PacedProducers paced;
        try {
            for (int i = 0; i < consumers; i++) {
                workers.add(Worker.builder().target(common.broker).queues(queue).concurrency(inFlight)
                        .name("loadtest-latency-" + i).gracePeriod(Duration.ofSeconds(5))
                        .defaultHandler(ctx -> {
                            long intended = ByteBuffer.wrap(ctx.payload()).getLong();
                            if (intended - recordFrom.get() >= 0) {
                                histogram.recordValue(Math.max(0, (System.nanoTime() - intended) / 1000));
                            }
                            if (handled.incrementAndGet() == total.get()) allHandled.countDown();
                        }).build().start());
            }
            Thread.sleep(300); // let the workers register and open their streams
            long start = System.nanoTime() + 10_000_000;
            RateSchedule schedule = new RateSchedule(start, rate, warmupSeconds + durationSeconds);
            recordFrom.set(start + warmupSeconds * 1_000_000_000L);
            total.set(schedule.jobs());
            paced = new PacedProducers(common.broker, queue, producers, 64, common.payloadBytes, schedule, stream);
            try (ProgressBar bar = common.progressBar("latency", schedule.jobs(), handled::get)) {
                paced.run(common.timeoutNanos());
                allHandled.await(Math.max(5, common.timeoutSeconds / 10), TimeUnit.SECONDS);
            }
        } finally {
            workers.parallelStream().forEach(Worker::close);
        }
        Summary s = new Summary()
                .put("scenario", "latency")
                .put("queue", queue)
                .put("rate", rate)
                .put("warmup_seconds", warmupSeconds)
                .put("duration_seconds", durationSeconds)
                .put("producers", producers)
                .put("stream", stream)
                .put("consumers", consumers)
                .put("in_flight", inFlight)
                .put("payload_bytes", common.payloadBytes)
                .put("jobs", total.get())
                .put("stored", paced.stored.get())
                .put("failed", paced.failed.get())
                .put("handled", handled.get())
                .put("recorded", histogram.getTotalCount())
                .put("p50_ms", ms(histogram.getValueAtPercentile(50)))
                .put("p99_ms", ms(histogram.getValueAtPercentile(99)))
                .put("p99_9_ms", ms(histogram.getValueAtPercentile(99.9)))
                .put("max_ms", ms(histogram.getMaxValue()))
                .put("mean_ms", Summary.round3(histogram.getMean() / 1000.0));
        Report.print(spec, common, s);
        return handled.get() >= total.get() && paced.failed.get() == 0 ? 0 : 1;
    }

    private static double ms(long micros) {
        return Summary.round3(micros / 1000.0);
    }
}
