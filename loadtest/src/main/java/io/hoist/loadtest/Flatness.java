package io.hoist.loadtest;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whether a soak series stayed flat: the median of its samples in the second tenth of the run
 * (the second minute of a 10-minute soak, once start-up and warm-up are over) against the median
 * of the last tenth (the last minute). Flat means the late median is at most
 * {@code early × (1 + tolerance) + slack}: a series may fall, it may not grow. The slack keeps a
 * tiny early value (a p99 of 2 ms, a heap just collected) from turning noise into a verdict.
 */
final class Flatness {
    private Flatness() {
    }

    /** The verdict of one series; medians are NaN when a window has no sample. */
    record Verdict(String series, double earlyMedian, double lateMedian, double limit, boolean flat, boolean info) {
        /** The same figures, shown for information only: they do not decide the run. */
        Verdict informational() {
            return new Verdict(series, earlyMedian, lateMedian, limit, flat, true);
        }

        /** False when a window had no sample (e.g. no RSS from a remote broker): no verdict then. */
        boolean known() {
            return !Double.isNaN(earlyMedian) && !Double.isNaN(lateMedian);
        }

        String describe() {
            if (!known()) return String.format(Locale.ROOT, "n/a   %s: not measured", series);
            return String.format(Locale.ROOT, "%-4s  %s: second-tenth median %.1f, last-tenth median %.1f (limit %.1f)%s",
                    flat ? "ok" : "GREW", series, earlyMedian, lateMedian, limit, info ? " [not judged]" : "");
        }
    }

    /**
     * @param elapsedSeconds when each sample was taken, from the start of the load
     * @param values         the samples; negative values are unknown and left out
     */
    static Verdict judge(String series, List<Double> elapsedSeconds, List<Double> values, double durationSeconds,
                         double tolerance, double slack) {
        double tenth = durationSeconds / 10;
        List<Double> early = new ArrayList<>();
        List<Double> late = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            double t = elapsedSeconds.get(i);
            double v = values.get(i);
            if (v < 0) continue;
            if (t > tenth && t <= 2 * tenth) early.add(v);
            if (t > durationSeconds - tenth) late.add(v);
        }
        double e = median(early);
        double l = median(late);
        double limit = e * (1 + tolerance) + slack;
        return new Verdict(series, e, l, limit, !Double.isNaN(e) && !Double.isNaN(l) && l <= limit, false);
    }

    static double median(List<Double> values) {
        if (values.isEmpty()) return Double.NaN;
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
