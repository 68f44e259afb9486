package io.hoist.broker.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A deliberately naive model of the job life (DESIGN.md "Job life", API.md JobService and
 * WorkerService): plain maps and linear scans, no indexes, slots or heaps. Commands change the
 * model the way API.md says; time-driven work happens only in {@link #tick}, which (like the
 * engine) runs after the round's command, so a command that arrives after a deadline but before
 * the tick still finds the lease or session alive.
 *
 * <p>Ready order: each READY job carries a {@link Rank}. A lease must take, per queue, a job of
 * the highest priority and then the lowest rank. Jobs with equal ranks became READY in the same
 * tick at the same instant (or in the same Deregister); the engine may lease those in any order.
 *
 * <p>Where DESIGN.md and API.md leave a choice open, the model follows the engine's: a command
 * runs before its round's tick (so an ack or heartbeat that lands after a deadline, in the same
 * round as the tick, still counts); one tick handles due delayed jobs, then expired leases, then
 * silent sessions; cancelling a DEAD job starts its unique_for window again; the downtime that
 * moves attempt timeouts on at a restart is measured from the last round that wrote something.
 */
final class ReferenceModel {
    static final List<String> QUEUES = List.of("q0", "q1");

    /**
     * When a job became READY: the event (one per command or tick), then within a tick the phase
     * (0 delayed job due, 1 lease expired, 2 session expired) and the deadline that fired.
     */
    record Rank(long event, int phase, long atMillis) implements Comparable<Rank> {
        private static final Comparator<Rank> ORDER = Comparator.comparingLong(Rank::event)
                .thenComparingInt(Rank::phase).thenComparingLong(Rank::atMillis);

        @Override
        public int compareTo(Rank o) {
            return ORDER.compare(this, o);
        }
    }

    static final class ModelJob {
        final String id;
        final String queue;
        final int priority;
        final int maxAttempts;
        final long leaseDurationMillis;
        final long timeoutMillis;
        final String uniqueKey;
        final long uniqueForMillis;
        JobState state;
        int attempt;
        long runAtMillis;
        long finishedAtMillis;
        String holder = "";
        String token = "";
        final List<String> tokens = new ArrayList<>();
        boolean cancelRequested;
        DeadReason deadReason = DeadReason.NONE;
        long leaseDeadlineMillis;
        long attemptDeadlineMillis;
        Rank rank;
        int errors;

        ModelJob(String id, JobSpec spec, EngineConfig config) {
            this.id = id;
            this.queue = spec.queue();
            this.priority = spec.priority();
            this.maxAttempts = spec.retry() != null && spec.retry().maxAttempts() != null
                    ? spec.retry().maxAttempts() : config.defaultRetry().maxAttempts();
            this.leaseDurationMillis = spec.leaseDurationMillis() != null
                    ? spec.leaseDurationMillis() : config.defaultLeaseDurationMillis();
            this.timeoutMillis = spec.timeoutMillis() != null ? spec.timeoutMillis() : config.defaultTimeoutMillis();
            this.uniqueKey = spec.uniqueKey();
            this.uniqueForMillis = spec.uniqueForMillis();
        }
    }

    static final class ModelSession {
        final String id;
        final List<String> queues;
        final int concurrency;
        long lastSeenMillis;

        ModelSession(String id, List<String> queues, int concurrency, long lastSeenMillis) {
            this.id = id;
            this.queues = List.copyOf(queues);
            this.concurrency = concurrency;
            this.lastSeenMillis = lastSeenMillis;
        }
    }

    /** A unique key held for a job: while it is unfinished (MAX_VALUE), then until a time. */
    record Hold(String jobId, long untilMillis) {
    }

    private final EngineConfig config;
    final Map<String, ModelJob> jobs = new TreeMap<>();
    final Map<String, ModelSession> sessions = new TreeMap<>();
    private final Map<String, Hold> holds = new HashMap<>();
    private final Set<String> tokensSeen = new HashSet<>();
    /** What the model went through, for the test's coverage statistics. */
    final Set<String> happened = new HashSet<>();
    private long events;

    ReferenceModel(EngineConfig config) {
        this.config = config;
    }

    // ------------------------------------------------------------------ producer commands

    Outcome enqueue(List<JobSpec> specs, List<String> newIds, long now) {
        events++;
        List<Outcome.EnqueuedJob> answers = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) {
            JobSpec spec = specs.get(i);
            if (spec.hasJobId() && jobs.containsKey(spec.jobId())) {
                answers.add(new Outcome.EnqueuedJob(spec.jobId(), true, jobs.get(spec.jobId()).state));
                continue;
            }
            Hold hold = spec.hasUniqueKey() ? holds.get(holdKey(spec.queue(), spec.uniqueKey())) : null;
            if (hold != null && hold.untilMillis() > now) {
                answers.add(new Outcome.EnqueuedJob(hold.jobId(), true, jobs.get(hold.jobId()).state));
                continue;
            }
            String id = spec.hasJobId() ? spec.jobId() : newIds.get(i);
            ModelJob job = new ModelJob(id, spec, config);
            jobs.put(id, job);
            long runAt = spec.delayMillis() != null ? now + spec.delayMillis() : now;
            if (runAt > now) {
                job.state = JobState.SCHEDULED;
                job.runAtMillis = runAt;
            } else {
                makeReady(job, now, new Rank(events, 0, i));
            }
            if (spec.hasUniqueKey()) {
                holds.put(holdKey(spec.queue(), spec.uniqueKey()), new Hold(id, Long.MAX_VALUE));
            }
            answers.add(new Outcome.EnqueuedJob(id, false, job.state));
        }
        return new Outcome.Enqueued(answers);
    }

    Outcome cancel(String jobId, long now) {
        events++;
        ModelJob job = jobs.get(jobId);
        if (job == null) {
            return rejected(Outcome.Reason.JOB_NOT_FOUND);
        }
        switch (job.state) {
            case SCHEDULED, READY, DEAD -> {
                finish(job, JobState.CANCELED, now);
                return new Outcome.Canceled(JobState.CANCELED);
            }
            case LEASED -> {
                job.cancelRequested = true;
                return new Outcome.Canceled(JobState.LEASED);
            }
            default -> {
                return rejected(Outcome.Reason.JOB_FINISHED);
            }
        }
    }

    // ------------------------------------------------------------------ worker commands

    Outcome register(String workerId, List<String> queues, int concurrency, long now) {
        events++;
        sessions.put(workerId, new ModelSession(workerId, queues, concurrency, now));
        return new Outcome.Registered(workerId);
    }

    Outcome heartbeat(String workerId, List<String> activeJobIds, long now) {
        events++;
        ModelSession s = touch(workerId, now);
        if (s == null) {
            return rejected(Outcome.Reason.WORKER_NOT_FOUND);
        }
        List<String> lost = new ArrayList<>();
        for (String id : activeJobIds) {
            ModelJob job = jobs.get(id);
            if (job != null && job.state == JobState.LEASED && job.holder.equals(workerId)) {
                job.leaseDeadlineMillis = Math.min(now + job.leaseDurationMillis, job.attemptDeadlineMillis);
            } else {
                lost.add(id);
            }
        }
        List<String> canceled = new ArrayList<>();
        for (ModelJob job : heldBy(workerId)) {
            if (job.cancelRequested) {
                canceled.add(job.id);
            }
        }
        return new Outcome.HeartbeatAnswer(canceled, lost, false);
    }

    /**
     * Applies the engine's answer to a lease after checking it: the same number of jobs the
     * model has to give, each one a job the ready order allows next in the queue it came from.
     */
    void lease(String workerId, List<String> queues, int maxJobs, long now, Outcome actual) {
        events++;
        ModelSession s = touch(workerId, now);
        if (s == null) {
            assertThat(actual).isInstanceOf(Outcome.Rejected.class);
            assertThat(((Outcome.Rejected) actual).reason()).isEqualTo(Outcome.Reason.WORKER_NOT_FOUND);
            return;
        }
        assertThat(actual).isInstanceOf(Outcome.Leased.class);
        List<Outcome.LeasedJob> got = ((Outcome.Leased) actual).jobs();
        List<String> wanted = queues.isEmpty() ? s.queues : queues;
        int max = Math.max(1, maxJobs);
        int capacity = s.concurrency == 0 ? max
                : Math.max(0, Math.min(max, s.concurrency - heldBy(workerId).size()));
        int next = 0;
        for (String queue : wanted) {
            while (next < capacity) {
                List<ModelJob> allowed = nextReady(queue);
                if (allowed.isEmpty()) {
                    break;
                }
                assertThat(next).as("the engine leased fewer jobs than the model has ready for %s (capacity %d): %s",
                        workerId, capacity, ids(got)).isLessThan(got.size());
                Outcome.LeasedJob lj = got.get(next);
                assertThat(lj.job().id()).as("lease #%d of %s from %s: the ready order allows only %s",
                        next, ids(got), queue, ids(allowed)).isIn(allowed.stream().map(j -> j.id).toList());
                ModelJob job = jobs.get(lj.job().id());
                deliver(job, workerId, lj.leaseToken(), now);
                assertThat(lj.job().attempt()).as("attempt of %s at delivery", job.id).isEqualTo(job.attempt);
                assertThat(lj.job().state()).isEqualTo(JobState.LEASED);
                assertThat(lj.job().leaseToken()).isEqualTo(lj.leaseToken());
                assertThat(lj.leaseDeadlineMillis()).as("lease deadline of %s", job.id)
                        .isEqualTo(job.leaseDeadlineMillis);
                next++;
            }
        }
        assertThat(got).as("the engine leased more jobs than the model allows (capacity %d, queues %s)",
                capacity, wanted).hasSize(next);
    }

    Outcome ack(String workerId, List<Command.AckItem> items, long now) {
        events++;
        touch(workerId, now);
        List<Outcome.AckResult> results = new ArrayList<>();
        for (Command.AckItem item : items) {
            ModelJob job = jobs.get(item.jobId());
            Outcome.AckOutcome outcome;
            if (job == null) {
                outcome = Outcome.AckOutcome.NOT_FOUND;
            } else if (item.leaseToken().isEmpty() || !item.leaseToken().equals(job.token)) {
                outcome = Outcome.AckOutcome.LEASE_LOST;
            } else if (job.state == JobState.LEASED) {
                finish(job, JobState.SUCCEEDED, now);
                outcome = Outcome.AckOutcome.ACKED;
            } else {
                // the same token again: harmless if it was the one that was acked
                outcome = job.state == JobState.SUCCEEDED ? Outcome.AckOutcome.ACKED : Outcome.AckOutcome.LEASE_LOST;
            }
            results.add(new Outcome.AckResult(item.jobId(), outcome));
        }
        return new Outcome.Acked(results);
    }

    /** @param retryAfterMillis instead of the policy's backoff, or null */
    Outcome nack(String workerId, String jobId, String token, boolean nonRetryable, Long retryAfterMillis, long now) {
        events++;
        touch(workerId, now);
        ModelJob job = jobs.get(jobId);
        if (job == null) {
            return rejected(Outcome.Reason.JOB_NOT_FOUND);
        }
        if (job.state != JobState.LEASED || token.isEmpty() || !token.equals(job.token)) {
            return rejected(Outcome.Reason.LEASE_LOST);
        }
        job.errors++;
        if (job.cancelRequested) {
            finish(job, JobState.CANCELED, now);
        } else if (nonRetryable) {
            bury(job, DeadReason.NON_RETRYABLE, now);
        } else if (job.attempt >= job.maxAttempts) {
            bury(job, DeadReason.ATTEMPTS_EXHAUSTED, now);
        } else {
            job.holder = "";
            job.state = JobState.SCHEDULED;
            job.runAtMillis = now + (retryAfterMillis != null ? retryAfterMillis : backoffMillis(job));
        }
        return new Outcome.Nacked(job.state, job.runAtMillis);
    }

    Outcome deregister(String workerId, long now) {
        events++;
        ModelSession s = sessions.remove(workerId);
        if (s == null) {
            return rejected(Outcome.Reason.WORKER_NOT_FOUND);
        }
        List<ModelJob> held = heldBy(workerId);
        for (ModelJob job : held) {
            if (job.cancelRequested) {
                finish(job, JobState.CANCELED, now);
            } else {
                job.attempt--; // a graceful exit does not charge the delivery
                makeReady(job, now, new Rank(events, 0, 0)); // released together: any order among them
            }
        }
        return new Outcome.Deregistered(held.size());
    }

    // ------------------------------------------------------------------ time

    /** The time-driven work due at {@code now}, in the engine's order of phases. */
    void tick(long now) {
        long event = ++events;
        for (ModelJob job : jobs.values()) {
            if (job.state == JobState.SCHEDULED && job.runAtMillis <= now) {
                happened.add(job.attempt > 0 ? "backoff over" : "delay over");
                makeReady(job, now, new Rank(event, 0, job.runAtMillis));
            }
        }
        List<ModelJob> expired = new ArrayList<>();
        for (ModelJob job : jobs.values()) {
            if (job.state == JobState.LEASED && job.leaseDeadlineMillis <= now) {
                expired.add(job);
            }
        }
        for (ModelJob job : expired) {
            loseLease(job, DeadReason.LEASE_EXPIRED, now, new Rank(event, 1, job.leaseDeadlineMillis));
        }
        for (ModelSession s : new ArrayList<>(sessions.values())) {
            if (s.lastSeenMillis + config.sessionTimeoutMillis() <= now) {
                sessions.remove(s.id);
                for (ModelJob job : heldBy(s.id)) {
                    loseLease(job, DeadReason.WORKER_LOST, now, new Rank(event, 2, 0));
                }
            }
        }
        holds.values().removeIf(h -> h.untilMillis() <= now);
    }

    /**
     * A restart at {@code now}: every session counts as just heard from, every lease as just
     * renewed, and each attempt's timeout moves on by the downtime (measured from the last
     * round that was written).
     */
    void restart(long now, long lastAliveMillis) {
        events++;
        long downtime = lastAliveMillis > 0 ? Math.max(0, now - lastAliveMillis) : 0;
        for (ModelSession s : sessions.values()) {
            s.lastSeenMillis = now;
        }
        for (ModelJob job : jobs.values()) {
            if (job.state == JobState.LEASED) {
                job.attemptDeadlineMillis += downtime;
                job.leaseDeadlineMillis = Math.min(job.attemptDeadlineMillis,
                        Math.max(job.leaseDeadlineMillis, now + job.leaseDurationMillis));
            }
        }
    }

    // ------------------------------------------------------------------ reads

    List<ModelJob> heldBy(String workerId) {
        List<ModelJob> held = new ArrayList<>();
        for (ModelJob job : jobs.values()) {
            if (job.state == JobState.LEASED && job.holder.equals(workerId)) {
                held.add(job);
            }
        }
        return held;
    }

    long count(String queue, JobState state) {
        return jobs.values().stream().filter(j -> j.queue.equals(queue) && j.state == state).count();
    }

    /** Whether job {@code a} must be leased before job {@code b} (same queue, both READY). */
    static boolean strictlyBefore(ModelJob a, ModelJob b) {
        return a.priority > b.priority || (a.priority == b.priority && a.rank.compareTo(b.rank) < 0);
    }

    // ------------------------------------------------------------------ transitions

    private List<ModelJob> nextReady(String queue) {
        List<ModelJob> best = new ArrayList<>();
        for (ModelJob job : jobs.values()) {
            if (job.state != JobState.READY || !job.queue.equals(queue)) {
                continue;
            }
            if (best.isEmpty() || strictlyBefore(job, best.get(0))) {
                best.clear();
                best.add(job);
            } else if (!strictlyBefore(best.get(0), job)) {
                best.add(job);
            }
        }
        return best;
    }

    private void deliver(ModelJob job, String workerId, String token, long now) {
        assertThat(tokensSeen.add(token)).as("lease token %s of %s was handed out before", token, job.id).isTrue();
        job.state = JobState.LEASED;
        job.attempt++;
        job.holder = workerId;
        job.token = token;
        job.tokens.add(token);
        job.attemptDeadlineMillis = now + job.timeoutMillis;
        job.leaseDeadlineMillis = Math.min(now + job.leaseDurationMillis, job.attemptDeadlineMillis);
    }

    /** A lease ended without an ack: charged, so READY again or DEAD if it was the last attempt. */
    private void loseLease(ModelJob job, DeadReason reason, long now, Rank rank) {
        job.errors++;
        if (job.cancelRequested) {
            finish(job, JobState.CANCELED, now);
        } else if (job.attempt >= job.maxAttempts) {
            bury(job, reason, now);
        } else {
            makeReady(job, now, rank);
        }
        happened.add(reason + " -> " + job.state);
    }

    private void bury(ModelJob job, DeadReason reason, long now) {
        job.deadReason = reason;
        finish(job, JobState.DEAD, now);
    }

    private void finish(ModelJob job, JobState end, long now) {
        job.state = end;
        job.holder = "";
        job.finishedAtMillis = now;
        if (!job.uniqueKey.isEmpty()) {
            String key = holdKey(job.queue, job.uniqueKey);
            Hold hold = holds.get(key);
            if (hold != null && hold.jobId().equals(job.id)) {
                if (job.uniqueForMillis > 0) {
                    holds.put(key, new Hold(job.id, now + job.uniqueForMillis));
                } else {
                    holds.remove(key);
                }
            }
        }
    }

    private void makeReady(ModelJob job, long now, Rank rank) {
        job.state = JobState.READY;
        job.holder = "";
        job.runAtMillis = now;
        job.rank = rank;
    }

    /** API.md: min(max_backoff, initial × multiplier^(n-1)), shortened by up to jitter. */
    private long backoffMillis(ModelJob job) {
        RetryPolicy p = config.defaultRetry();
        double base = Math.min((double) p.maxBackoffMillis(),
                p.initialBackoffMillis() * Math.pow(p.multiplier(), job.attempt - 1));
        long backoff = (long) Math.floor(base * (1.0 - p.jitter() * Jitter.fraction(job.id, job.attempt)));
        assertThat(backoff).isBetween((long) Math.floor(base * (1.0 - p.jitter())), p.maxBackoffMillis());
        return backoff;
    }

    private ModelSession touch(String workerId, long now) {
        ModelSession s = sessions.get(workerId);
        if (s != null) {
            s.lastSeenMillis = now;
        }
        return s;
    }

    /** Refusals are compared by reason; the message is for people. */
    static Outcome.Rejected rejected(Outcome.Reason reason) {
        return new Outcome.Rejected(reason, "");
    }

    private static String holdKey(String queue, String key) {
        return queue + '\u0000' + key;
    }

    private static List<String> ids(List<?> jobs) {
        return jobs.stream().map(o -> o instanceof Outcome.LeasedJob lj ? lj.job().id() : ((ModelJob) o).id).toList();
    }
}
