package io.hoist.loadtest;

import io.hoist.loadtest.ChaosChecker.Findings;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.stream.Collectors;

/** The crash-loop checker's verdict: what was done, each invariant with ok/FAIL, and the delivery histograms. */
final class ChaosReport {

    /** What the orchestrator did, besides what the checker found. */
    record Run(long seed, String queue, String dir, int brokerKillsRequested, int brokerKills, int killsUnderLoad, int workerKills,
               double killPhaseSeconds, double drainSeconds, boolean drained, long enqueueCallsFailed,
               long enqueuesInDoubt) {
    }

    private final Run run;
    private final Findings f;

    ChaosReport(Run run, Findings findings) {
        this.run = run;
        this.f = findings;
    }

    boolean passed() {
        return f.passed() && run.brokerKills() >= run.brokerKillsRequested();
    }

    Findings findings() {
        return f;
    }

    private Summary summary() {
        return new Summary()
                .put("scenario", "chaos")
                .put("verdict", passed() ? "PASS" : "FAIL")
                .put("seed", Long.toString(run.seed()))
                .put("queue", run.queue())
                .put("dir", run.dir())
                .put("broker_kills", (long) run.brokerKills())
                .put("broker_kills_requested", (long) run.brokerKillsRequested())
                .put("broker_kills_under_load", (long) run.killsUnderLoad())
                .put("worker_kills", (long) run.workerKills())
                .put("kill_phase_seconds", Summary.round3(run.killPhaseSeconds()))
                .put("drain_seconds", Summary.round3(run.drainSeconds()))
                .put("drained", run.drained() ? "yes" : "no (timed out)")
                .put("enqueues_acknowledged", f.acknowledged())
                .put("enqueue_calls_failed", run.enqueueCallsFailed())
                .put("enqueues_in_doubt", run.enqueuesInDoubt())
                .put("stored_not_acknowledged", f.storedNotAcknowledged())
                .put("lost", f.lost())
                .put("unfinished", f.unfinished())
                .put("completed_twice", f.completedTwice())
                .put("acked_not_succeeded", f.ackedNotSucceeded())
                .put("delivered_after_ack", f.deliveredAfterAck())
                .put("deliveries", f.deliveries())
                .put("redeliveries_seen", f.redeliveries())
                .put("attempts_beyond_first", f.attemptsBeyondFirst())
                .put("acks_accepted", f.acksAccepted())
                .put("acks_refused_or_unsent", f.acksRefused());
    }

    String toTable() {
        StringBuilder sb = new StringBuilder(summary().toTable());
        sb.append(String.format(Locale.ROOT, "%-24s  %s%n", "deliveries_per_job", histogram(f.deliveriesPerJob())));
        sb.append(String.format(Locale.ROOT, "%-24s  %s%n", "broker_attempts_per_job", histogram(f.attemptsPerJob())));
        sb.append(System.lineSeparator());
        check(sb, "acknowledged enqueues lost", f.lost(), f.lostSample());
        check(sb, "jobs never finished", f.unfinished(), f.unfinishedSample());
        if (!f.unfinishedByState().isEmpty()) sb.append("    by state: ").append(f.unfinishedByState()).append('\n');
        check(sb, "completed twice (accepted acks of two deliveries)", f.completedTwice(), f.completedTwiceSample());
        check(sb, "accepted acks not SUCCEEDED in the end", f.ackedNotSucceeded(), List.of());
        check(sb, "delivered again after an accepted ack", f.deliveredAfterAck(), f.deliveredAfterAckSample());
        if (run.brokerKills() < run.brokerKillsRequested()) {
            sb.append(String.format(Locale.ROOT, "FAIL  only %d of %d broker kills within the time limit (--max-time)%n",
                    run.brokerKills(), run.brokerKillsRequested()));
        }
        return sb.toString();
    }

    private static void check(StringBuilder sb, String what, long count, List<String> sample) {
        sb.append(String.format(Locale.ROOT, "%-4s  %s: %,d%s%n", count == 0 ? "ok" : "FAIL", what, count,
                sample.isEmpty() || count == 0 ? "" : " e.g. " + String.join(", ", sample)));
    }

    String toJson() {
        String flat = summary().toJson();
        return flat.substring(0, flat.length() - 1)
                + ",\"deliveries_per_job\":" + jsonHistogram(f.deliveriesPerJob())
                + ",\"broker_attempts_per_job\":" + jsonHistogram(f.attemptsPerJob())
                + ",\"unfinished_by_state\":" + f.unfinishedByState().entrySet().stream()
                        .map(e -> Summary.jsonString(e.getKey()) + ":" + e.getValue()).collect(Collectors.joining(",", "{", "}"))
                + ",\"lost_sample\":" + jsonList(f.lostSample())
                + ",\"unfinished_sample\":" + jsonList(f.unfinishedSample())
                + ",\"completed_twice_sample\":" + jsonList(f.completedTwiceSample())
                + "}";
    }

    /** {@code 1×9,812  2×143}: how many jobs had each number of deliveries. */
    static String histogram(SortedMap<Integer, Long> h) {
        return h.isEmpty() ? "-" : h.entrySet().stream()
                .map(e -> String.format(Locale.ROOT, "%d×%,d", e.getKey(), e.getValue())).collect(Collectors.joining("  "));
    }

    private static String jsonHistogram(Map<Integer, Long> h) {
        return h.entrySet().stream().map(e -> "\"" + e.getKey() + "\":" + e.getValue()).collect(Collectors.joining(",", "{", "}"));
    }

    private static String jsonList(List<String> ids) {
        return ids.stream().map(Summary::jsonString).collect(Collectors.joining(",", "[", "]"));
    }
}
