package io.hoist.loadtest;

import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/** The soak's samples, their CSV, JSON and table rows, and whether each series stayed flat. */
final class SoakTable {
    static final String HEADER = String.format(Locale.ROOT, "%7s %9s %9s %9s %9s %6s %9s %9s %9s",
            "t_s", "heap_mib", "old_mib", "commit_mib", "rss_mib", "fds", "p50_ms", "p99_ms", "jobs/s");
    private static final double MIB = 1024.0 * 1024.0;

    /** One interval; memory in MiB, latency in ms (of the jobs whose handler started in this interval), -1 unknown. */
    record Sample(double elapsedSeconds, double heapMib, double oldGenMib, double heapCommittedMib, double rssMib, long openFiles,
                  double p50Millis, double p99Millis, double jobsPerSecond) {
    }

    private final long rate;
    private final Duration duration;
    private final Duration interval;
    private final double tolerance;
    private final List<Sample> samples = new ArrayList<>();
    private long stored;
    private long failed;
    private long handled;
    private double liveEarlyMib = -1;
    private double liveEndMib = -1;

    SoakTable(long rate, Duration duration, Duration interval, double tolerance) {
        this.rate = rate;
        this.duration = duration;
        this.interval = interval;
        this.tolerance = tolerance;
    }

    Sample add(double elapsedSeconds, BrokerSampler.Footprint f, Histogram window, double jobsPerSecond) {
        boolean any = window.getTotalCount() > 0;
        Sample s = new Sample(elapsedSeconds, mib(f.heapBytes()), mib(f.oldGenBytes()), mib(f.heapCommittedBytes()),
                mib(f.rssBytes()), f.openFiles(),
                any ? window.getValueAtPercentile(50) / 1000.0 : -1, any ? window.getValueAtPercentile(99) / 1000.0 : -1,
                jobsPerSecond);
        samples.add(s);
        return s;
    }

    /** Heap after a forced full GC at the end of the second tenth, and at the end; -1 unknown. */
    void liveHeapEarly(long bytes) {
        liveEarlyMib = mib(bytes);
    }

    void liveHeapEnd(long bytes) {
        liveEndMib = mib(bytes);
    }

    void totals(long stored, long failed, long handled) {
        this.stored = stored;
        this.failed = failed;
        this.handled = handled;
    }

    private static double mib(long bytes) {
        return bytes < 0 ? -1 : bytes / MIB;
    }

    static String row(Sample s) {
        return String.format(Locale.ROOT, "%7.0f %9.1f %9.1f %9.1f %9.1f %6d %9.2f %9.2f %9.0f", s.elapsedSeconds(),
                s.heapMib(), s.oldGenMib(), s.heapCommittedMib(), s.rssMib(), s.openFiles(), s.p50Millis(), s.p99Millis(),
                s.jobsPerSecond());
    }

    /**
     * The verdicts. Slack per series: heap after a full GC 16 MiB, heap in use 32 MiB, RSS 32 MiB,
     * 8 open files, p99 2 ms. Heap in use is shown but not judged: it is a sawtooth between
     * collections whose height G1 chooses (it grows the young generation as it sees fit, and old
     * garbage piles up until a marking cycle), so only the heap after a full GC tells a leak.
     */
    List<Flatness.Verdict> verdictList() {
        double d = duration.toSeconds();
        List<Double> t = samples.stream().map(Sample::elapsedSeconds).toList();
        // the live heap: one reading at each end, so the "medians" are those readings
        Flatness.Verdict live = Flatness.judge("heap_after_full_gc_mib", List.of(d / 5, d), List.of(liveEarlyMib, liveEndMib),
                d, tolerance, 16);
        return List.of(
                live,
                judge("heap_mib", t, Sample::heapMib, d, 32).informational(),
                judge("rss_mib", t, Sample::rssMib, d, 32),
                judge("open_files", t, s -> s.openFiles(), d, 8),
                judge("p99_ms", t, Sample::p99Millis, d, 2));
    }

    private Flatness.Verdict judge(String name, List<Double> t, ToDoubleFunction<Sample> f, double d, double slack) {
        return Flatness.judge(name, t, samples.stream().map(s -> f.applyAsDouble(s)).toList(), d, tolerance, slack);
    }

    boolean passed() {
        return failed == 0 && handled >= stored && verdictList().stream().allMatch(v -> v.flat() || !v.known() || v.info());
    }

    String verdicts() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%njobs: %,d stored, %,d failed, %,d handled (rate %,d/s for %d s)%n",
                stored, failed, handled, rate, duration.toSeconds()));
        for (Flatness.Verdict v : verdictList()) sb.append(v.describe()).append('\n');
        sb.append(String.format(Locale.ROOT, "tolerance: +%.0f%% plus slack (heap after GC 16 MiB, heap/RSS 32 MiB, open files 8, p99 2 ms)%n",
                tolerance * 100));
        return sb.toString();
    }

    String toCsv() {
        StringBuilder sb = new StringBuilder("t_s,heap_mib,old_gen_mib,heap_committed_mib,rss_mib,open_files,p50_ms,p99_ms,jobs_per_s\n");
        for (Sample s : samples) {
            sb.append(String.format(Locale.ROOT, "%.1f,%.1f,%.1f,%.1f,%.1f,%d,%.3f,%.3f,%.1f%n", s.elapsedSeconds(), s.heapMib(),
                    s.oldGenMib(), s.heapCommittedMib(), s.rssMib(), s.openFiles(), s.p50Millis(), s.p99Millis(),
                    s.jobsPerSecond()));
        }
        return sb.toString();
    }

    String toJson() {
        String rows = samples.stream().map(s -> String.format(Locale.ROOT,
                "{\"t_s\":%.1f,\"heap_mib\":%.1f,\"old_gen_mib\":%.1f,\"heap_committed_mib\":%.1f,\"rss_mib\":%.1f,\"open_files\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"jobs_per_s\":%.1f}",
                s.elapsedSeconds(), s.heapMib(), s.oldGenMib(), s.heapCommittedMib(), s.rssMib(), s.openFiles(), s.p50Millis(), s.p99Millis(),
                s.jobsPerSecond())).collect(Collectors.joining(",", "[", "]"));
        String verdicts = verdictList().stream().map(v -> String.format(Locale.ROOT,
                "{\"series\":\"%s\",\"second_tenth_median\":%s,\"last_tenth_median\":%s,\"limit\":%s,\"flat\":%b,\"judged\":%b}",
                v.series(), Summary.jsonValue(v.earlyMedian()), Summary.jsonValue(v.lateMedian()),
                Summary.jsonValue(v.limit()), v.flat(), !v.info())).collect(Collectors.joining(",", "[", "]"));
        return String.format(Locale.ROOT, "{\"scenario\":\"soak\",\"rate\":%d,\"duration_s\":%d,\"interval_s\":%d,"
                        + "\"tolerance\":%s,\"stored\":%d,\"failed\":%d,\"handled\":%d,\"passed\":%b,\"samples\":%s,\"verdicts\":%s}",
                rate, duration.toSeconds(), interval.toSeconds(), Summary.jsonValue(tolerance), stored, failed, handled,
                passed(), rows, verdicts);
    }
}
