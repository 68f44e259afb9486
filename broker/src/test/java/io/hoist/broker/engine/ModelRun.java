package io.hoist.broker.engine;

import io.hoist.broker.engine.ModelStep.Pick;
import io.hoist.broker.engine.ReferenceModel.ModelJob;
import io.hoist.broker.store.StoredState;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs one scenario against the real engine on a real RocksDB store ({@link DurableEngine}) and
 * against the {@link ReferenceModel}, and after every step compares every job, the counts per
 * queue and state, the sessions, and checks the invariants of the job life.
 */
final class ModelRun implements AutoCloseable {
    static final long T0 = 1_700_000_000_000L;
    /** Short sessions, leases and timeouts, so that advancing 0-15 s makes them expire often. */
    static final EngineConfig CONFIG = new EngineConfig(10_000, 2_000, 7L * 24 * 3_600_000,
            new RetryPolicy(4, 2_000, 10_000, 2.0, 0.5), 20_000, 40_000, 30_000);
    static final List<String> WORKERS = List.of("w0", "w1", "w2", "w9");
    private static final String UNKNOWN_JOB = "nosuchjob";

    /** What both sides must agree on for a job. Lease deadlines only count while LEASED. */
    record JobView(String id, String queue, int priority, int maxAttempts, JobState state, int attempt,
                   long runAtMillis, long finishedAtMillis, String workerId, boolean cancelRequested,
                   DeadReason deadReason, String leaseToken, int errors, long leaseDeadlineMillis,
                   long attemptDeadlineMillis) {

        static JobView of(Job j) {
            boolean leased = j.state() == JobState.LEASED;
            return new JobView(j.id(), j.queue(), j.spec().priority(), j.retry().maxAttempts(), j.state(),
                    j.attempt(), j.runAtMillis(), j.finishedAtMillis(), j.workerId(), j.cancelRequested(),
                    j.deadReason(), j.leaseToken(), j.errors().size(),
                    leased ? j.leaseDeadlineMillis() : 0, leased ? j.attemptDeadlineMillis() : 0);
        }

        static JobView of(ModelJob m) {
            boolean leased = m.state == JobState.LEASED;
            return new JobView(m.id, m.queue, m.priority, m.maxAttempts, m.state, m.attempt, m.runAtMillis,
                    m.finishedAtMillis, m.holder, m.cancelRequested, m.deadReason, m.token,
                    Math.min(m.errors, Job.MAX_ERRORS_KEPT),
                    leased ? m.leaseDeadlineMillis : 0, leased ? m.attemptDeadlineMillis : 0);
        }
    }

    private final Path dir;
    private final DurableEngine durable;
    private final ReferenceModel model = new ReferenceModel(CONFIG);
    private long now = T0;
    private int generatedIds;
    private int stepNo;
    private Map<String, Job> previous = Map.of();
    private boolean roundRan;
    private final Set<String> covered = new TreeSet<>();

    private ModelRun(Path dir) {
        this.dir = dir;
        this.durable = new DurableEngine(CONFIG, dir, now);
    }

    /**
     * Runs the steps in a fresh store directory, deleted afterwards. Answers what the run went
     * through (outcomes and transitions), for the property's statistics.
     */
    static Set<String> run(List<ModelStep> steps) {
        Path dir;
        try {
            dir = Files.createTempDirectory("hoist-model-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (ModelRun run = new ModelRun(dir)) {
            for (ModelStep step : steps) {
                run.apply(step);
            }
            run.covered.addAll(run.model.happened);
            return run.covered;
        } finally {
            deleteTree(dir);
        }
    }

    private void apply(ModelStep step) {
        stepNo++;
        long at = now + (step instanceof ModelStep.Advance a ? a.millis()
                : step instanceof ModelStep.Crash c ? c.downtimeMillis() : 0);
        String where = "step " + stepNo + " " + step + " at T0+" + (at - T0);
        if (step instanceof ModelStep.Enqueue e) {
            List<JobSpec> specs = e.specs().stream().map(ModelRun::jobSpec).toList();
            List<String> ids = specs.stream().map(s -> String.format("g%04d", ++generatedIds)).toList();
            Outcome actual = round(new Command.Enqueue(specs, ids));
            expectSame(actual, model.enqueue(specs, ids, now), where);
        } else if (step instanceof ModelStep.Register r) {
            String worker = WORKERS.get(r.worker());
            if (model.sessions.containsKey(worker)) {
                return; // the API hands out a fresh id per Register: a live id never registers again
            }
            List<String> queues = queues(r.queues());
            Outcome actual = round(new Command.Register(worker, worker, queues, r.concurrency(), Map.of()));
            expectSame(actual, model.register(worker, queues, r.concurrency(), now), where);
        } else if (step instanceof ModelStep.Lease l) {
            String worker = worker(l.worker());
            List<String> queues = queues(l.queues());
            Outcome actual = round(new Command.Lease(worker, queues, l.maxJobs(), 0, null));
            try {
                model.lease(worker, queues, l.maxJobs(), now, actual);
            } catch (AssertionError err) {
                throw new AssertionError(where + ": " + err.getMessage(), err);
            }
        } else if (step instanceof ModelStep.Ack a) {
            List<Command.AckItem> items = a.items().stream().map(this::resolve).toList();
            String sender = sender(a.sender(), items.get(0).jobId());
            Outcome actual = round(new Command.Ack(sender, items));
            expectSame(actual, model.ack(sender, items, now), where);
        } else if (step instanceof ModelStep.Nack n) {
            Command.AckItem item = resolve(n.pick());
            String sender = sender(n.sender(), item.jobId());
            Long retryAfter = n.retryAfterMillis() < 0 ? null : n.retryAfterMillis();
            Outcome actual = round(new Command.Nack(sender, item.jobId(), item.leaseToken(), "boom",
                    n.nonRetryable(), retryAfter));
            expectSame(actual, model.nack(sender, item.jobId(), item.leaseToken(), n.nonRetryable(), retryAfter, now),
                    where);
        } else if (step instanceof ModelStep.Heartbeat h) {
            String worker = worker(h.worker());
            List<String> listed = heartbeatList(worker, h.omitMask(), h.extraJob());
            Outcome actual = round(new Command.Heartbeat(worker, listed));
            expectSame(actual, model.heartbeat(worker, listed, now), where);
        } else if (step instanceof ModelStep.Deregister d) {
            String worker = worker(d.worker());
            Outcome actual = round(new Command.Deregister(worker));
            expectSame(actual, model.deregister(worker, now), where);
        } else if (step instanceof ModelStep.Cancel c) {
            String id = pickJob(c.job(), List.copyOf(model.jobs.values()));
            Outcome actual = round(new Command.CancelJob(id));
            expectSame(actual, model.cancel(id, now), where);
        } else if (step instanceof ModelStep.Advance a) {
            now += a.millis();
            if (a.tick()) {
                round(null);
            }
        } else if (step instanceof ModelStep.Crash c) {
            if (model.jobs.values().stream().anyMatch(j -> j.state == JobState.LEASED)) {
                covered.add("crash with leases held");
            }
            now += c.downtimeMillis();
            long lastAlive = durable.lastAliveMillis();
            StoredState stored = durable.restart(now);
            assertThat(stored.lastAliveMillis()).as(where + ": the time of the last written round").isEqualTo(lastAlive);
            assertThat(durable.storedJobs()).as(where + ": jobs in the store").isEqualTo(model.jobs.size());
            assertThat(stored.sessions()).as(where + ": sessions in the store").hasSize(model.sessions.size());
            model.restart(now, lastAlive);
            round(null); // the first round after start ticks whatever fell due while down
        } else {
            throw new IllegalArgumentException("unknown step " + step);
        }
        if (roundRan) {
            roundRan = false;
            model.tick(now);
        }
        verify(where, step instanceof ModelStep.Deregister);
    }

    /**
     * An engine round: the command, then a Tick if one is due, then a synced commit. The model
     * applies the command after this and ticks at the end of the step, in the same order.
     */
    private Outcome round(Command command) {
        Outcome outcome = durable.round(command, now);
        roundRan = true;
        cover(outcome);
        return outcome;
    }

    private void cover(Outcome o) {
        if (o instanceof Outcome.Leased l && !l.jobs().isEmpty()) {
            covered.add("lease delivered");
        } else if (o instanceof Outcome.Acked a) {
            a.results().forEach(r -> covered.add("ack " + r.outcome()));
        } else if (o instanceof Outcome.Nacked n) {
            covered.add("nack -> " + n.state());
        } else if (o instanceof Outcome.Rejected r) {
            covered.add("refused " + r.reason());
        } else if (o instanceof Outcome.Enqueued e && e.jobs().stream().anyMatch(Outcome.EnqueuedJob::duplicate)) {
            covered.add("duplicate enqueue");
        } else if (o instanceof Outcome.Deregistered d && d.released() > 0) {
            covered.add("deregister released jobs");
        } else if (o instanceof Outcome.Canceled c) {
            covered.add("cancel -> " + c.state());
        } else if (o instanceof Outcome.HeartbeatAnswer h && !h.canceledJobIds().isEmpty()) {
            covered.add("heartbeat told of a cancel");
        }
    }

    // ------------------------------------------------------------------ comparisons

    private static void expectSame(Outcome actual, Outcome expected, String where) {
        assertThat(normalized(actual)).as(where).isEqualTo(normalized(expected));
    }

    /** Refusals compare by reason; heartbeat lists of cancelled jobs compare as sets. */
    private static Outcome normalized(Outcome o) {
        if (o instanceof Outcome.Rejected r) {
            return ReferenceModel.rejected(r.reason());
        }
        if (o instanceof Outcome.HeartbeatAnswer h) {
            return new Outcome.HeartbeatAnswer(h.canceledJobIds().stream().sorted().toList(), h.lostJobIds(),
                    h.shutdownRequested());
        }
        return o;
    }

    private void verify(String where, boolean deregistered) {
        Engine engine = durable.engine();
        Map<String, Job> snapshot = new TreeMap<>();
        for (ModelJob m : model.jobs.values()) {
            Outcome o = durable.read(new Command.GetJob(m.id), now);
            if (!(o instanceof Outcome.JobFound found)) {
                throw new AssertionError(where + ": the engine does not know job " + m.id + ": " + o);
            }
            snapshot.put(m.id, found.job());
            assertThat(JobView.of(found.job())).as(where + ": job " + m.id).isEqualTo(JobView.of(m));
        }
        assertThat(engine.jobCount()).as(where + ": number of jobs").isEqualTo(model.jobs.size());
        assertThat(engine.sessionCount()).as(where + ": live sessions " + model.sessions.keySet())
                .isEqualTo(model.sessions.size());
        Map<String, Long> engineCounts = new TreeMap<>();
        Map<String, Long> modelCounts = new TreeMap<>();
        long total = 0;
        for (String q : ReferenceModel.QUEUES) {
            for (JobState s : JobState.values()) {
                engineCounts.put(q + "/" + s, engine.count(q, s));
                modelCounts.put(q + "/" + s, model.count(q, s));
                total += engine.count(q, s);
            }
        }
        assertThat(engineCounts).as(where + ": counts per queue and state").isEqualTo(modelCounts);
        assertThat(total).as(where + ": every job is in exactly one state").isEqualTo(engine.jobCount());
        checkInvariants(snapshot, where, deregistered);
        checkReadyOrder(snapshot, where);
        previous = snapshot;
    }

    /** What must hold of the engine's jobs whatever the model says. */
    private void checkInvariants(Map<String, Job> snapshot, String where, boolean deregistered) {
        Set<String> leaseTokens = new HashSet<>();
        Map<String, Integer> heldPerWorker = new HashMap<>();
        for (Job j : snapshot.values()) {
            String job = where + ": job " + j.id();
            if (j.state() == JobState.LEASED) {
                assertThat(j.workerId()).as(job + " is LEASED to nobody").isNotEmpty();
                assertThat(model.sessions).as(job + " is LEASED to a worker without a session").containsKey(j.workerId());
                assertThat(leaseTokens.add(j.leaseToken())).as(job + " shares its lease token").isTrue();
                heldPerWorker.merge(j.workerId(), 1, Integer::sum);
            } else {
                assertThat(j.workerId()).as(job + " has a holder while " + j.state()).isEmpty();
            }
            assertThat(j.attempt()).as(job + " attempts").isBetween(0, j.retry().maxAttempts());
            Job before = previous.get(j.id());
            if (before != null) {
                int floor = deregistered ? before.attempt() - 1 : before.attempt();
                assertThat(j.attempt()).as(job + " attempts went down").isGreaterThanOrEqualTo(floor);
                assertThat(allowed(before.state(), j.state()))
                        .as(job + " went " + before.state() + " -> " + j.state()).isTrue();
                if (before.state() == JobState.LEASED && j.state() == JobState.LEASED) {
                    assertThat(j.workerId() + " " + j.leaseToken()).as(job + " was leased again while leased")
                            .isEqualTo(before.workerId() + " " + before.leaseToken());
                }
            }
        }
        for (String id : previous.keySet()) {
            assertThat(snapshot).as(where + ": job " + id + " disappeared").containsKey(id);
        }
        heldPerWorker.forEach((worker, held) -> {
            int concurrency = model.sessions.get(worker).concurrency;
            if (concurrency > 0) {
                assertThat(held).as(where + ": " + worker + " holds more than its concurrency").isLessThanOrEqualTo(concurrency);
            }
        });
    }

    /** Within a queue and priority, the engine's ready order follows the model's wherever it is strict. */
    private void checkReadyOrder(Map<String, Job> snapshot, String where) {
        List<ModelJob> ready = model.jobs.values().stream().filter(m -> m.state == JobState.READY).toList();
        for (ModelJob a : ready) {
            for (ModelJob b : ready) {
                if (a.queue.equals(b.queue) && a.priority == b.priority && ReferenceModel.strictlyBefore(a, b)) {
                    assertThat(snapshot.get(a.id).order())
                            .as(where + ": " + a.id + " became READY before " + b.id + " but is behind it")
                            .isLessThan(snapshot.get(b.id).order());
                }
            }
        }
    }

    /**
     * The job life's transitions (DESIGN.md) a job may show from one step to the next (LEASED to
     * READY also covers a nack whose retry_after has passed by the round's tick).
     */
    private static boolean allowed(JobState from, JobState to) {
        if (from == to) {
            return true;
        }
        return switch (from) {
            case SCHEDULED -> to == JobState.READY || to == JobState.CANCELED;
            case READY -> to == JobState.LEASED || to == JobState.CANCELED;
            case LEASED -> to != JobState.LEASED;
            case DEAD -> to == JobState.CANCELED;
            case SUCCEEDED, CANCELED -> false;
        };
    }

    // ------------------------------------------------------------------ resolving steps

    static JobSpec jobSpec(ModelStep.Spec s) {
        RetryPolicy.Override retry = s.maxAttempts() == 0 ? RetryPolicy.Override.NONE
                : new RetryPolicy.Override(s.maxAttempts(), null, null, null, null);
        return new JobSpec(ReferenceModel.QUEUES.get(s.queue()), "work", new byte[0], Map.of(), s.priority(),
                null, s.delayMillis() < 0 ? null : s.delayMillis(), retry,
                s.leaseMillis() == 0 ? null : s.leaseMillis(), s.timeoutMillis() == 0 ? null : s.timeoutMillis(),
                s.uniqueKey() < 0 ? "" : "k" + s.uniqueKey(), s.uniqueForMillis(),
                s.jobId() < 0 ? "" : "c" + s.jobId());
    }

    private static List<String> queues(int set) {
        return switch (set) {
            case 0 -> List.of();
            case 1 -> List.of("q0");
            case 2 -> List.of("q1");
            case 3 -> List.of("q0", "q1");
            default -> List.of("q1", "q0");
        };
    }

    private Command.AckItem resolve(Pick pick) {
        List<ModelJob> all = List.copyOf(model.jobs.values());
        if (pick.job() < 0 || all.isEmpty()) {
            return new Command.AckItem(UNKNOWN_JOB, "1");
        }
        return switch (pick.token()) {
            case CURRENT -> {
                List<ModelJob> pool = firstNonEmpty(
                        all.stream().filter(j -> j.state == JobState.LEASED).toList(),
                        all.stream().filter(j -> !j.tokens.isEmpty()).toList(), all);
                ModelJob j = pool.get(pick.job() % pool.size());
                yield new Command.AckItem(j.id, j.token);
            }
            case STALE -> {
                List<ModelJob> pool = firstNonEmpty(
                        all.stream().filter(j -> j.tokens.size() > 1).toList(),
                        all.stream().filter(j -> !j.tokens.isEmpty()).toList(), all);
                ModelJob j = pool.get(pick.job() % pool.size());
                String token = j.tokens.size() > 1 ? j.tokens.get(pick.job() % (j.tokens.size() - 1)) : j.token;
                yield new Command.AckItem(j.id, token);
            }
            case BOGUS -> new Command.AckItem(all.get(pick.job() % all.size()).id, pick.job() % 2 == 0 ? "bogus" : "");
        };
    }

    @SafeVarargs
    private static List<ModelJob> firstNonEmpty(List<ModelJob>... pools) {
        return Stream.of(pools).filter(p -> !p.isEmpty()).findFirst().orElseThrow();
    }

    /**
     * Workers 0 and 1 name live sessions when there are any (so that most calls find one), else
     * {@code w0} and {@code w1}; 2 is always {@code w2} (so that it goes silent now and then with
     * jobs held); 3 never registers.
     */
    private String worker(int index) {
        if (index >= 2 || model.sessions.isEmpty()) {
            return WORKERS.get(index);
        }
        List<String> live = List.copyOf(model.sessions.keySet());
        return live.get(index % live.size());
    }

    private String sender(int sender, String jobId) {
        if (sender >= 0) {
            return worker(sender);
        }
        ModelJob j = model.jobs.get(jobId);
        return j != null && j.state == JobState.LEASED ? j.holder : WORKERS.get(0);
    }

    private List<String> heartbeatList(String worker, int omitMask, int extraJob) {
        List<String> listed = new ArrayList<>();
        List<ModelJob> held = model.heldBy(worker);
        held.sort(Comparator.comparing(j -> j.id));
        for (int i = 0; i < held.size(); i++) {
            if (i >= 31 || (omitMask & (1 << i)) == 0) {
                listed.add(held.get(i).id);
            }
        }
        if (extraJob >= 0) {
            String extra = pickJob(extraJob, List.copyOf(model.jobs.values()));
            if (!listed.contains(extra)) {
                listed.add(extra);
            }
        }
        return listed;
    }

    private static String pickJob(int index, List<ModelJob> jobs) {
        return index < 0 || jobs.isEmpty() ? UNKNOWN_JOB : jobs.get(index % jobs.size()).id;
    }

    @Override
    public void close() {
        durable.close();
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
