package io.hoist.loadtest;

import io.hoist.loadtest.EventLog.Event;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobState;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Judges a crash-loop run from what the clients were told (their event logs) and what the broker
 * holds in the end. The invariants, each of which must count 0:
 * <ul>
 *   <li>lost: an acknowledged enqueue the broker does not know (every acknowledged job is durable);</li>
 *   <li>unfinished: an acknowledged job not SUCCEEDED after the drain (no job is stranded, leased
 *       by a dead session or parked forever);</li>
 *   <li>completed twice: accepted acks for two different deliveries (lease tokens) of one job
 *       (fencing holds across restarts);</li>
 *   <li>acked but not SUCCEEDED: an accepted ack the broker forgot (acks are durable too);</li>
 *   <li>delivered after an accepted ack: a new delivery whose handler started after a worker was
 *       told its ack of the job was accepted (by CLOCK_MONOTONIC, shared by the JVMs).</li>
 * </ul>
 * Pure: it reads nothing but its arguments.
 */
final class ChaosChecker {
    private static final int SAMPLE = 10;

    private ChaosChecker() {
    }

    /** What the check found; the {@code *Sample} lists hold up to ten ids each, for a first look. */
    record Findings(long acknowledged, long lost, List<String> lostSample, long unfinished,
                    SortedMap<String, Long> unfinishedByState, List<String> unfinishedSample,
                    long completedTwice, List<String> completedTwiceSample, long ackedNotSucceeded,
                    long deliveredAfterAck, List<String> deliveredAfterAckSample, long deliveries, long redeliveries,
                    SortedMap<Integer, Long> deliveriesPerJob, SortedMap<Integer, Long> attemptsPerJob,
                    long acksAccepted, long acksRefused, long storedNotAcknowledged) {

        /** Deliveries the broker charged beyond each job's first: seen by a handler or not (a reply lost in a kill). */
        long attemptsBeyondFirst() {
            return attemptsPerJob.entrySet().stream().mapToLong(e -> Math.max(0, e.getKey() - 1) * e.getValue()).sum();
        }

        boolean passed() {
            return lost == 0 && unfinished == 0 && completedTwice == 0 && ackedNotSucceeded == 0 && deliveredAfterAck == 0;
        }
    }

    static Findings check(List<Event> producerEvents, List<Event> workerEvents, Map<String, Job> finalState) {
        Set<String> acknowledged = new HashSet<>();
        for (Event e : producerEvents) {
            if (e.is("ENQUEUED")) acknowledged.add(e.jobId());
        }

        // per job: the distinct tokens delivered, the tokens whose ack was accepted, and when the first was
        Map<String, Set<String>> delivered = new HashMap<>();
        Map<String, Set<String>> ackedTokens = new HashMap<>();
        Map<String, Long> firstAckNanos = new HashMap<>();
        long acksAccepted = 0, acksRefused = 0;
        for (Event e : workerEvents) {
            switch (e.type()) {
                case "RECEIVED" -> delivered.computeIfAbsent(e.jobId(), k -> new HashSet<>()).add(e.token());
                case "ACKED" -> {
                    acksAccepted++;
                    ackedTokens.computeIfAbsent(e.jobId(), k -> new HashSet<>()).add(e.token());
                    firstAckNanos.merge(e.jobId(), e.nanos(), Math::min);
                }
                case "ACK_REFUSED", "NOT_SENT" -> acksRefused++;
                default -> { }
            }
        }
        List<String> deliveredAfterAck = new ArrayList<>();
        for (Event e : workerEvents) {
            Long ackedAt = firstAckNanos.get(e.jobId());
            if (e.is("RECEIVED") && ackedAt != null && e.nanos() > ackedAt && !ackedTokens.get(e.jobId()).contains(e.token())) {
                deliveredAfterAck.add(e.jobId());
            }
        }

        List<String> lost = new ArrayList<>();
        List<String> unfinished = new ArrayList<>();
        SortedMap<String, Long> unfinishedByState = new TreeMap<>();
        SortedMap<Integer, Long> deliveriesPerJob = new TreeMap<>();
        SortedMap<Integer, Long> attemptsPerJob = new TreeMap<>();
        long deliveries = 0, redeliveries = 0;
        for (String id : acknowledged) {
            Job job = finalState.get(id);
            if (job == null) {
                lost.add(id);
                continue;
            }
            if (job.getState() != JobState.JOB_STATE_SUCCEEDED) {
                unfinished.add(id);
                unfinishedByState.merge(job.getState().name().replace("JOB_STATE_", ""), 1L, Long::sum);
            }
            int n = delivered.getOrDefault(id, Set.of()).size();
            deliveries += n;
            redeliveries += Math.max(0, n - 1);
            deliveriesPerJob.merge(n, 1L, Long::sum);
            attemptsPerJob.merge(job.getAttempt(), 1L, Long::sum);
        }
        List<String> twice = ackedTokens.entrySet().stream().filter(e -> e.getValue().size() > 1).map(Map.Entry::getKey)
                .sorted().toList();
        long ackedNotSucceeded = ackedTokens.keySet().stream().filter(id -> {
            Job job = finalState.get(id);
            return job == null || job.getState() != JobState.JOB_STATE_SUCCEEDED;
        }).count();
        long storedNotAcknowledged = finalState.keySet().stream().filter(id -> !acknowledged.contains(id)).count();
        return new Findings(acknowledged.size(), lost.size(), sample(lost), unfinished.size(), unfinishedByState,
                sample(unfinished), twice.size(), sample(twice), ackedNotSucceeded, deliveredAfterAck.size(),
                sample(deliveredAfterAck), deliveries, redeliveries, deliveriesPerJob, attemptsPerJob, acksAccepted,
                acksRefused, storedNotAcknowledged);
    }

    private static List<String> sample(List<String> ids) {
        return ids.stream().sorted().distinct().limit(SAMPLE).toList();
    }
}
