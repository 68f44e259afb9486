package io.hoist.broker.metrics;

import io.hoist.broker.engine.JobEvent;
import io.hoist.broker.engine.QueueInfo;
import io.hoist.broker.runtime.EngineObserver;
import io.hoist.broker.store.DiskSpace;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;

/**
 * The broker's meters (DESIGN.md, "Metrics") in a Prometheus registry. Job counters and timers
 * are fed by engine events as they happen; the per-state queue gauges and the worker count are
 * set from an engine snapshot taken just before each scrape. Tags stay low-cardinality: queue
 * and state, never a job or worker id.
 */
public final class BrokerMetrics implements EngineObserver, AutoCloseable {
    private static final Duration[] WAIT_BUCKETS = {
            Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(50),
            Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5),
            Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(30),
            Duration.ofHours(2)};
    private static final Duration[] FSYNC_BUCKETS = {
            Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
            Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofSeconds(1)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, QueueMeters> queues = new ConcurrentHashMap<>();
    private final AtomicLong workers = new AtomicLong();
    private final DistributionSummary batchSize;
    private final Timer fsync;
    private final Timer write;
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();

    /**
     * @param storeSizeBytes the store's size on disk, read at each scrape
     * @param storeFigure    the store's own figures by name (see {@code Store.figure}), read at each scrape
     */
    public BrokerMetrics(LongSupplier storeSizeBytes, ToLongFunction<String> storeFigure) {
        // names promtool's lint rejects (an abbreviated unit; a gauge ending in _count)
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")
                || id.getName().equals("system.cpu.count")));
        // Micrometer's gRPC binder tags in camelCase; Prometheus labels are snake_case
        registry.config().meterFilter(MeterFilter.renameTag("grpc.server", "methodType", "method_type"));
        registry.config().meterFilter(MeterFilter.renameTag("grpc.server", "statusCode", "status_code"));
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        Gauge.builder("hoist.workers", workers, AtomicLong::get)
                .description("Live worker sessions").register(registry);
        Gauge.builder("hoist.store.size", storeSizeBytes::getAsLong)
                .baseUnit("bytes").description("Size of the store's files on disk").register(registry);
        Gauge.builder("hoist.store.memtable", () -> storeFigure.applyAsLong("memtable_bytes"))
                .baseUnit("bytes").description("RocksDB memtables, all column families").register(registry);
        Gauge.builder("hoist.store.pending.compaction", () -> storeFigure.applyAsLong("pending_compaction_bytes"))
                .baseUnit("bytes").description("RocksDB's estimate of bytes compaction still has to rewrite").register(registry);
        Gauge.builder("hoist.store.keys", () -> storeFigure.applyAsLong("estimated_keys"))
                .description("RocksDB's estimate of the keys stored (jobs and their life records, sessions, unique keys, queues)").register(registry);
        batchSize = DistributionSummary.builder("hoist.engine.batch.size")
                .description("Commands applied per engine round (one write each)")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
                .register(registry);
        fsync = Timer.builder("hoist.fsync")
                .description("Time of one fsync of the store, which makes every round written before it durable")
                .serviceLevelObjectives(FSYNC_BUCKETS)
                .register(registry);
        write = Timer.builder("hoist.store.write")
                .description("Time to write one round's batch to the store, without its fsync")
                .serviceLevelObjectives(FSYNC_BUCKETS)
                .register(registry);
    }

    /** Records every gRPC call's count and latency (Micrometer's own binder). */
    public MetricCollectingServerInterceptor grpcInterceptor() {
        return new MetricCollectingServerInterceptor(registry);
    }

    @Override
    public void jobEvent(JobEvent event, String queue, long millis) {
        QueueMeters q = queue(queue);
        switch (event) {
            case ENQUEUED -> q.enqueued.increment();
            case LEASED -> {
                q.leased.increment();
                q.waited.record(millis, TimeUnit.MILLISECONDS);
            }
            case ACKED -> {
                q.acked.increment();
                q.ran.record(millis, TimeUnit.MILLISECONDS);
            }
            case NACKED -> q.nacked.increment();
            case RETRIED -> q.retried.increment();
            case DEAD -> q.dead.increment();
            case LEASE_EXPIRED -> q.leasesExpired.increment();
        }
    }

    @Override
    public void roundCommitted(int commands, long writeNanos) {
        batchSize.record(commands);
        write.record(writeNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void roundsSynced(long syncNanos) {
        fsync.record(syncNanos, TimeUnit.NANOSECONDS);
    }

    /** Sets the gauges from an engine snapshot; called before each scrape. */
    public void update(List<QueueInfo> snapshot, int liveWorkers) {
        for (QueueInfo info : snapshot) {
            QueueMeters q = queue(info.name());
            q.ready.set(info.ready());
            q.scheduled.set(info.scheduled());
            q.leasedNow.set(info.leased());
            q.deadNow.set(info.dead());
        }
        workers.set(liveWorkers);
    }

    /** The Prometheus text exposition of every meter. */
    /** The data dir's usable space (NaN while unreadable) and the {@code --min-free-disk} floor, read at each scrape. */
    public void watchDisk(DiskSpace disk) {
        Gauge.builder("hoist.disk.free", disk, d -> {
            long free = d.usableBytes();
            return free == Long.MAX_VALUE ? Double.NaN : free;
        }).baseUnit("bytes").description("Usable space left on the data dir's filesystem").register(registry);
        Gauge.builder("hoist.disk.min.free", disk, DiskSpace::minFreeBytes)
                .baseUnit("bytes").description("--min-free-disk: below it enqueues are refused").register(registry);
    }

    public String scrape() {
        return registry.scrape();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    private QueueMeters queue(String name) {
        return queues.computeIfAbsent(name, n -> new QueueMeters(n, registry));
    }

    @Override
    public void close() {
        gcMetrics.close();
        registry.close();
    }

    private static final class QueueMeters {
        final Counter enqueued;
        final Counter leased;
        final Counter acked;
        final Counter nacked;
        final Counter retried;
        final Counter dead;
        final Counter leasesExpired;
        final Timer waited;
        final Timer ran;
        final AtomicLong ready = new AtomicLong();
        final AtomicLong scheduled = new AtomicLong();
        final AtomicLong leasedNow = new AtomicLong();
        final AtomicLong deadNow = new AtomicLong();

        QueueMeters(String queue, PrometheusMeterRegistry registry) {
            Tags tags = Tags.of("queue", queue);
            enqueued = counter("hoist.jobs.enqueued", "Jobs stored by Enqueue (duplicates not counted)", tags, registry);
            leased = counter("hoist.jobs.leased", "Deliveries to workers", tags, registry);
            acked = counter("hoist.jobs.acked", "Jobs acked (SUCCEEDED)", tags, registry);
            nacked = counter("hoist.jobs.nacked", "Nacks accepted", tags, registry);
            retried = counter("hoist.jobs.retried", "Jobs sent back for another attempt (nack or lost lease)", tags, registry);
            dead = counter("hoist.jobs.dead", "Jobs that went to the dead-letter queue", tags, registry);
            leasesExpired = counter("hoist.leases.expired", "Leases that ended without ack or nack (expired or worker lost)", tags, registry);
            waited = Timer.builder("hoist.job.wait").description("Time a job waited READY before it was leased")
                    .tags(tags).serviceLevelObjectives(WAIT_BUCKETS).register(registry);
            ran = Timer.builder("hoist.job.run").description("Time from lease to ack")
                    .tags(tags).serviceLevelObjectives(WAIT_BUCKETS).register(registry);
            gauge(queue, "ready", ready, registry);
            gauge(queue, "scheduled", scheduled, registry);
            gauge(queue, "leased", leasedNow, registry);
            gauge(queue, "dead", deadNow, registry);
        }

        private static Counter counter(String name, String help, Tags tags, PrometheusMeterRegistry registry) {
            return Counter.builder(name).description(help).tags(tags).register(registry);
        }

        private static void gauge(String queue, String state, AtomicLong value, PrometheusMeterRegistry registry) {
            Gauge.builder("hoist.queue.jobs", value, AtomicLong::get)
                    .description("Jobs in a queue by state")
                    .tags("queue", queue, "state", state)
                    .register(registry);
        }
    }
}
