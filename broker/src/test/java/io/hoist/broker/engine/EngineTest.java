package io.hoist.broker.engine;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every transition of DESIGN.md's job life, driven with explicit times: the engine reads no
 * clock, so "later" is just a larger {@code now}.
 */
class EngineTest {
    static final long T0 = 1_700_000_000_000L;
    static final EngineConfig CONFIG = new EngineConfig(10_000, 2_000, 300_000,
            new RetryPolicy(3, 1_000, 60_000, 2.0, 0.2), 30_000, 1_800_000, 30_000);

    Engine engine;
    Recorded effects;
    long now;
    int ids;

    /** Records the engine's effects, like the runtime's round effects do, and keeps the jobs as an archive. */
    static final class Recorded implements Effects, JobArchive {
        final Map<String, JobState> stored = new HashMap<>();
        final Map<String, Job> records = new HashMap<>();
        final List<Object[]> answers = new ArrayList<>();
        long deliverySeq;

        @Override public void jobChanged(Job job) { stored.put(job.id(), job.state()); records.put(job.id(), job); }
        @Override public void jobDeleted(String jobId) { stored.remove(jobId); records.remove(jobId); }
        @Override public Job find(String id) { return records.get(id); }
        @Override public void forEachJob(java.util.function.Consumer<Job> action) { List.copyOf(records.values()).forEach(action); }
        @Override public void sessionStored(Session session) { }
        @Override public void sessionDeleted(String workerId) { }
        @Override public void uniqueStored(UniqueHold hold) { }
        @Override public void uniqueDeleted(String queue, String key) { }
        @Override public void deliverySeqStored(long seq) { deliverySeq = seq; }
        @Override public void queueStored(String queue, QueueConfig config) { }
        @Override public void answer(Object ticket, Outcome outcome) { answers.add(new Object[] {ticket, outcome}); }
    }

    @BeforeEach
    void setUp() {
        effects = new Recorded();
        engine = new Engine(CONFIG, effects, effects);
        now = T0;
    }

    // ------------------------------------------------------------------ helpers

    static JobSpec spec(String queue, int priority) {
        return new JobSpec(queue, "email", new byte[] {1}, Map.of(), priority, null, null,
                RetryPolicy.Override.NONE, null, null, "", 0, "");
    }

    static JobSpec withDelay(JobSpec s, long delayMillis) {
        return new JobSpec(s.queue(), s.type(), s.payload(), s.headers(), s.priority(), null, delayMillis,
                s.retry(), s.leaseDurationMillis(), s.timeoutMillis(), s.uniqueKey(), s.uniqueForMillis(), s.jobId());
    }

    static JobSpec withUnique(JobSpec s, String key, long forMillis) {
        return new JobSpec(s.queue(), s.type(), s.payload(), s.headers(), s.priority(), null, s.delayMillis(),
                s.retry(), s.leaseDurationMillis(), s.timeoutMillis(), key, forMillis, s.jobId());
    }

    static JobSpec withJobId(JobSpec s, String id) {
        return new JobSpec(s.queue(), s.type(), s.payload(), s.headers(), s.priority(), null, s.delayMillis(),
                s.retry(), s.leaseDurationMillis(), s.timeoutMillis(), s.uniqueKey(), s.uniqueForMillis(), id);
    }

    static JobSpec withLease(JobSpec s, long leaseMillis, long timeoutMillis) {
        return new JobSpec(s.queue(), s.type(), s.payload(), s.headers(), s.priority(), null, s.delayMillis(),
                s.retry(), leaseMillis, timeoutMillis, s.uniqueKey(), s.uniqueForMillis(), s.jobId());
    }

    <O extends Outcome> O apply(Command c, Class<O> type) {
        Outcome o = engine.apply(c, now);
        assertThat(o).isInstanceOf(type);
        return type.cast(o);
    }

    Outcome.Rejected rejected(Command c, Outcome.Reason reason) {
        Outcome.Rejected r = apply(c, Outcome.Rejected.class);
        assertThat(r.reason()).isEqualTo(reason);
        return r;
    }

    List<Outcome.EnqueuedJob> enqueue(JobSpec... specs) {
        List<String> newIds = new ArrayList<>();
        for (int i = 0; i < specs.length; i++) {
            newIds.add(String.format("job-%04d", ++ids));
        }
        return apply(new Command.Enqueue(List.of(specs), newIds), Outcome.Enqueued.class).jobs();
    }

    String enqueueOne(JobSpec spec) {
        return enqueue(spec).get(0).jobId();
    }

    String register(String worker, int concurrency) {
        return apply(new Command.Register(worker, worker, List.of("q"), concurrency, Map.of()), Outcome.Registered.class).workerId();
    }

    List<Outcome.LeasedJob> lease(String worker, int max) {
        return apply(new Command.Lease(worker, List.of(), max, 0, null), Outcome.Leased.class).jobs();
    }

    Outcome.LeasedJob leaseOne(String worker) {
        List<Outcome.LeasedJob> jobs = lease(worker, 1);
        assertThat(jobs).hasSize(1);
        return jobs.get(0);
    }

    Outcome.AckOutcome ack(String jobId, String token) {
        return apply(new Command.Ack("w1", List.of(new Command.AckItem(jobId, token))), Outcome.Acked.class)
                .results().get(0).outcome();
    }

    Outcome nack(Outcome.LeasedJob lj, boolean nonRetryable) {
        return engine.apply(new Command.Nack("w1", lj.job().id(), lj.leaseToken(), "boom", nonRetryable, null), now);
    }

    Job job(String id) {
        return apply(new Command.GetJob(id), Outcome.JobFound.class).job();
    }

    void advanceTo(long t) {
        now = t;
        engine.apply(new Command.Tick(), now);
    }

    void heartbeat(String worker, String... jobIds) {
        apply(new Command.Heartbeat(worker, List.of(jobIds)), Outcome.HeartbeatAnswer.class);
    }

    // ------------------------------------------------------------------ tests

    @Nested
    class Enqueue {
        @Test
        void jobWithoutDelay_isReadyAndStored() {
            String id = enqueueOne(spec("q", 0));
            assertThat(job(id).state()).isEqualTo(JobState.READY);
            assertThat(job(id).attempt()).isZero();
            assertThat(effects.stored).containsEntry(id, JobState.READY);
            assertThat(engine.count("q", JobState.READY)).isEqualTo(1);
        }

        @Test
        void delayedJob_isScheduledUntilItsTime_thenReadyAtExactlyThatTime() {
            String id = enqueueOne(withDelay(spec("q", 0), 5_000));
            assertThat(job(id).state()).isEqualTo(JobState.SCHEDULED);
            assertThat(engine.nextDeadline()).isEqualTo(T0 + 5_000);
            advanceTo(T0 + 4_999);
            assertThat(job(id).state()).isEqualTo(JobState.SCHEDULED);
            advanceTo(T0 + 5_000);
            assertThat(job(id).state()).isEqualTo(JobState.READY);
        }

        @Test
        void clientJobIdThatExists_returnsThatJobAsDuplicate() {
            String id = enqueueOne(withJobId(spec("q", 0), "order-1"));
            List<Outcome.EnqueuedJob> again = enqueue(withJobId(spec("q", 5), "order-1"));
            assertThat(id).isEqualTo("order-1");
            assertThat(again.get(0)).isEqualTo(new Outcome.EnqueuedJob("order-1", true, JobState.READY));
            assertThat(engine.count("q", JobState.READY)).isEqualTo(1);
        }

        @Test
        void uniqueKeyRepeatedWithinOneBatch_isADuplicateOfTheFirst() {
            List<Outcome.EnqueuedJob> out = enqueue(withUnique(spec("q", 0), "k", 0), withUnique(spec("q", 0), "k", 0));
            assertThat(out.get(0).duplicate()).isFalse();
            assertThat(out.get(1)).isEqualTo(new Outcome.EnqueuedJob(out.get(0).jobId(), true, JobState.READY));
        }

        @Test
        void uniqueKey_isHeldWhileActive_andForUniqueForAfterTheJobEnds() {
            String id = enqueueOne(withUnique(spec("q", 0), "k", 60_000));
            register("w1", 0);
            Outcome.LeasedJob lj = leaseOne("w1");
            assertThat(enqueue(withUnique(spec("q", 0), "k", 60_000)).get(0).jobId()).isEqualTo(id);
            assertThat(ack(id, lj.leaseToken())).isEqualTo(Outcome.AckOutcome.ACKED);
            now += 59_999;
            Outcome.EnqueuedJob dup = enqueue(withUnique(spec("q", 0), "k", 60_000)).get(0);
            assertThat(dup).isEqualTo(new Outcome.EnqueuedJob(id, true, JobState.SUCCEEDED));
            advanceTo(now + 1);
            Outcome.EnqueuedJob fresh = enqueue(withUnique(spec("q", 0), "k", 60_000)).get(0);
            assertThat(fresh.duplicate()).isFalse();
            assertThat(fresh.jobId()).isNotEqualTo(id);
        }

        @Test
        void uniqueKeyWithoutUniqueFor_isFreeAsSoonAsTheJobEnds() {
            String id = enqueueOne(withUnique(spec("q", 0), "k", 0));
            apply(new Command.CancelJob(id), Outcome.Canceled.class);
            assertThat(enqueue(withUnique(spec("q", 0), "k", 0)).get(0).duplicate()).isFalse();
        }

        @Test
        void uniqueKeysAreScopedToTheirQueue() {
            enqueueOne(withUnique(spec("a", 0), "k", 0));
            assertThat(enqueue(withUnique(spec("b", 0), "k", 0)).get(0).duplicate()).isFalse();
        }
    }

    @Nested
    class Leasing {
        @Test
        void higherPriorityFirst_thenOldestFirst() {
            String low1 = enqueueOne(spec("q", 1));
            String high = enqueueOne(spec("q", 9));
            String low2 = enqueueOne(spec("q", 1));
            String mid = enqueueOne(spec("q", 5));
            register("w1", 0);
            assertThat(lease("w1", 10)).extracting(lj -> lj.job().id()).containsExactly(high, mid, low1, low2);
        }

        @Test
        void queuesAreTriedInTheOrderGiven() {
            String a = enqueueOne(spec("a", 0));
            String b = enqueueOne(spec("b", 9));
            register("w1", 0);
            List<Outcome.LeasedJob> got = apply(new Command.Lease("w1", List.of("a", "b"), 2, 0, null), Outcome.Leased.class).jobs();
            assertThat(got).extracting(lj -> lj.job().id()).containsExactly(a, b);
        }

        @Test
        void deliveryChargesAnAttempt_andGivesAFreshToken() {
            String id = enqueueOne(spec("q", 0));
            register("w1", 0);
            Outcome.LeasedJob lj = leaseOne("w1");
            assertThat(lj.job().state()).isEqualTo(JobState.LEASED);
            assertThat(lj.job().attempt()).isEqualTo(1);
            assertThat(lj.job().workerId()).isEqualTo("w1");
            assertThat(lj.leaseToken()).isNotEmpty();
            assertThat(lj.leaseDeadlineMillis()).isEqualTo(T0 + 30_000);
            assertThat(effects.stored).containsEntry(id, JobState.LEASED);
            assertThat(effects.deliverySeq).isPositive();
        }

        @Test
        void workerNeverHoldsMoreThanItsConcurrency() {
            for (int i = 0; i < 5; i++) {
                enqueueOne(spec("q", 0));
            }
            register("w1", 2);
            assertThat(lease("w1", 10)).hasSize(2);
            assertThat(lease("w1", 10)).isEmpty();
        }

        @Test
        void unknownSession_isWorkerNotFound() {
            rejected(new Command.Lease("ghost", List.of("q"), 1, 0, null), Outcome.Reason.WORKER_NOT_FOUND);
        }

        @Test
        void parkedLease_isWokenByANewJob() {
            register("w1", 0);
            Object ticket = new Object();
            apply(new Command.Lease("w1", List.of(), 1, 5_000, ticket), Outcome.Parked.class);
            assertThat(engine.parkedLeases()).isEqualTo(1);
            String id = enqueueOne(spec("q", 0));
            assertThat(effects.answers).hasSize(1);
            assertThat(effects.answers.get(0)[0]).isSameAs(ticket);
            Outcome.Leased woken = (Outcome.Leased) effects.answers.get(0)[1];
            assertThat(woken.jobs()).extracting(lj -> lj.job().id()).containsExactly(id);
            assertThat(engine.parkedLeases()).isZero();
        }

        @Test
        void parkedLease_answersEmptyAtItsDeadline() {
            register("w1", 0);
            Object ticket = new Object();
            apply(new Command.Lease("w1", List.of(), 1, 5_000, ticket), Outcome.Parked.class);
            assertThat(engine.nextDeadline()).isEqualTo(T0 + 5_000);
            advanceTo(T0 + 5_000);
            assertThat(effects.answers).hasSize(1);
            assertThat(((Outcome.Leased) effects.answers.get(0)[1]).jobs()).isEmpty();
        }

        @Test
        void unparkedLease_answersEmptyOnce_andTakesNothing() {
            register("w1", 0);
            Object ticket = new Object();
            apply(new Command.Lease("w1", List.of(), 1, 5_000, ticket), Outcome.Parked.class);
            apply(new Command.Unpark(ticket), Outcome.Done.class);
            assertThat(effects.answers).singleElement().satisfies(a -> {
                assertThat(a[0]).isSameAs(ticket);
                assertThat(((Outcome.Leased) a[1]).jobs()).isEmpty();
            });
            String id = enqueueOne(spec("q", 0));
            apply(new Command.Unpark(ticket), Outcome.Done.class); // already answered: nothing more
            assertThat(effects.answers).hasSize(1);
            assertThat(job(id).state()).isEqualTo(JobState.READY);
        }
    }

    @Nested
    class AckAndNack {
        String id;
        Outcome.LeasedJob lj;

        @BeforeEach
        void leased() {
            id = enqueueOne(spec("q", 0));
            register("w1", 0);
            lj = leaseOne("w1");
        }

        @Test
        void ack_succeedsTheJob_andRepeatingItIsHarmless() {
            assertThat(ack(id, lj.leaseToken())).isEqualTo(Outcome.AckOutcome.ACKED);
            assertThat(job(id).state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(job(id).finishedAtMillis()).isEqualTo(now);
            assertThat(ack(id, lj.leaseToken())).isEqualTo(Outcome.AckOutcome.ACKED);
        }

        @Test
        void ackWithWrongToken_isLeaseLost_andUnknownJobNotFound() {
            assertThat(ack(id, "nope")).isEqualTo(Outcome.AckOutcome.LEASE_LOST);
            assertThat(ack("unknown", lj.leaseToken())).isEqualTo(Outcome.AckOutcome.NOT_FOUND);
            assertThat(job(id).state()).isEqualTo(JobState.LEASED);
        }

        @Test
        void nack_schedulesTheRetryAfterItsBackoff() {
            Outcome.Nacked n = (Outcome.Nacked) nack(lj, false);
            assertThat(n.state()).isEqualTo(JobState.SCHEDULED);
            // first failure: 1 s shortened by at most 20 %
            assertThat(n.runAtMillis() - now).isBetween(800L, 1_000L);
            Job j = job(id);
            assertThat(j.lastError()).isEqualTo("boom");
            assertThat(j.errors()).containsExactly(new JobError(1, "boom", now));
            advanceTo(n.runAtMillis());
            assertThat(job(id).state()).isEqualTo(JobState.READY);
        }

        @Test
        void nackWithRetryAfter_usesIt() {
            Outcome.Nacked n = (Outcome.Nacked) engine.apply(
                    new Command.Nack("w1", id, lj.leaseToken(), "busy", false, 42_000L), now);
            assertThat(n.runAtMillis()).isEqualTo(now + 42_000);
        }

        @Test
        void nonRetryableNack_isDeadAtOnce() {
            Outcome.Nacked n = (Outcome.Nacked) nack(lj, true);
            assertThat(n.state()).isEqualTo(JobState.DEAD);
            assertThat(job(id).deadReason()).isEqualTo(DeadReason.NON_RETRYABLE);
        }

        @Test
        void nackOfTheLastAttempt_isDeadWithAttemptsExhausted() {
            for (int attempt = 1; attempt < CONFIG.defaultRetry().maxAttempts(); attempt++) {
                Outcome.Nacked n = (Outcome.Nacked) nack(lj, false);
                advanceTo(n.runAtMillis());
                lj = leaseOne("w1");
            }
            assertThat(lj.job().attempt()).isEqualTo(3);
            Outcome.Nacked n = (Outcome.Nacked) nack(lj, false);
            assertThat(n.state()).isEqualTo(JobState.DEAD);
            Job dead = job(id);
            assertThat(dead.deadReason()).isEqualTo(DeadReason.ATTEMPTS_EXHAUSTED);
            assertThat(dead.errors()).extracting(JobError::attempt).containsExactly(1, 2, 3);
        }

        @Test
        void nackWithStaleToken_isLeaseLost() {
            Outcome.Rejected r = rejected(new Command.Nack("w1", id, "stale", "x", false, null), Outcome.Reason.LEASE_LOST);
            assertThat(r.message()).contains(id);
        }

        @Test
        void nackOfUnknownJob_isJobNotFound() {
            rejected(new Command.Nack("w1", "nope", "t", "x", false, null), Outcome.Reason.JOB_NOT_FOUND);
        }
    }

    @Nested
    class Backoff {
        @ParameterizedTest(name = "failure {0}: {1} ms before jitter")
        @CsvSource({"1, 1000", "2, 2000", "3, 4000", "4, 8000", "7, 60000", "30, 60000"})
        void growsByTheMultiplier_upToTheCap(int failures, long expected) {
            RetryPolicy p = new RetryPolicy(50, 1_000, 60_000, 2.0, 0.2);
            assertThat(p.backoffMillis(failures, 0.0)).isEqualTo(expected);
            // jitter only shortens, by at most the fraction
            assertThat(p.backoffMillis(failures, 0.999_999)).isBetween((long) (expected * 0.8), expected);
        }

        @Test
        void jitterIsDerivedFromJobAndAttempt_uniformEnough() {
            double min = 1;
            double max = 0;
            double sum = 0;
            for (int i = 0; i < 10_000; i++) {
                double r = Jitter.fraction("job-" + i, 1 + i % 5);
                assertThat(r).isGreaterThanOrEqualTo(0.0).isLessThan(1.0);
                assertThat(Jitter.fraction("job-" + i, 1 + i % 5)).isEqualTo(r);
                min = Math.min(min, r);
                max = Math.max(max, r);
                sum += r;
            }
            assertThat(min).isLessThan(0.01);
            assertThat(max).isGreaterThan(0.99);
            assertThat(sum / 10_000).isBetween(0.48, 0.52);
        }
    }

    @Nested
    class LeasesAndSessions {
        @Test
        void expiredLease_isChargedAndReadyAgain_atExactlyItsDeadline() {
            String id = enqueueOne(withLease(spec("q", 0), 5_000, 60_000));
            register("w1", 0);
            Outcome.LeasedJob lj = leaseOne("w1");
            heartbeat("w1"); // keep the session, not the lease
            advanceTo(T0 + 4_999);
            assertThat(job(id).state()).isEqualTo(JobState.LEASED);
            advanceTo(T0 + 5_000);
            Job j = job(id);
            assertThat(j.state()).isEqualTo(JobState.READY);
            assertThat(j.attempt()).isEqualTo(1);
            assertThat(j.lastError()).isEqualTo("lease expired");
            assertThat(ack(id, lj.leaseToken())).isEqualTo(Outcome.AckOutcome.LEASE_LOST);
        }

        @Test
        void expiredLeaseOnTheLastAttempt_isDeadWithLeaseExpired() {
            String id = enqueueOne(withLease(spec("q", 0), 5_000, 60_000));
            register("w1", 0);
            for (int i = 1; i <= 3; i++) {
                leaseOne("w1");
                heartbeat("w1");
                advanceTo(now + 5_000);
            }
            assertThat(job(id).state()).isEqualTo(JobState.DEAD);
            assertThat(job(id).deadReason()).isEqualTo(DeadReason.LEASE_EXPIRED);
        }

        @Test
        void heartbeat_extendsTheLease_butNeverPastTheTimeout() {
            String id = enqueueOne(withLease(spec("q", 0), 5_000, 12_000));
            register("w1", 0);
            leaseOne("w1");
            now = T0 + 4_000;
            heartbeat("w1", id);
            assertThat(job(id).leaseDeadlineMillis()).isEqualTo(T0 + 9_000);
            now = T0 + 8_000;
            heartbeat("w1", id);
            assertThat(job(id).leaseDeadlineMillis()).isEqualTo(T0 + 12_000);
            advanceTo(T0 + 12_000);
            assertThat(job(id).state()).isEqualTo(JobState.READY);
        }

        @Test
        void fencing_aRedeliveredJobRefusesTheOldHoldersAckAndNack() {
            String id = enqueueOne(withLease(spec("q", 0), 5_000, 60_000));
            register("w1", 0);
            register("w2", 0);
            Outcome.LeasedJob first = leaseOne("w1");
            heartbeat("w1");
            heartbeat("w2");
            advanceTo(T0 + 5_000);
            Outcome.LeasedJob second = leaseOne("w2");
            assertThat(second.leaseToken()).isNotEqualTo(first.leaseToken());
            assertThat(ack(id, first.leaseToken())).isEqualTo(Outcome.AckOutcome.LEASE_LOST);
            rejected(new Command.Nack("w1", id, first.leaseToken(), "late", false, null), Outcome.Reason.LEASE_LOST);
            assertThat(ack(id, second.leaseToken())).isEqualTo(Outcome.AckOutcome.ACKED);
        }

        @Test
        void heartbeat_reportsJobsTheWorkerNoLongerHolds() {
            String id = enqueueOne(withLease(spec("q", 0), 5_000, 60_000));
            register("w1", 0);
            leaseOne("w1");
            heartbeat("w1");
            advanceTo(T0 + 5_000);
            Outcome.HeartbeatAnswer hb = apply(new Command.Heartbeat("w1", List.of(id, "unknown")), Outcome.HeartbeatAnswer.class);
            assertThat(hb.lostJobIds()).containsExactly(id, "unknown");
        }

        @Test
        void silentSession_expires_andEachOfItsJobsIsReleasedCharged() {
            String a = enqueueOne(spec("q", 0));
            String b = enqueueOne(spec("q", 0));
            register("w1", 0);
            lease("w1", 2);
            Object ticket = new Object();
            apply(new Command.Lease("w1", List.of(), 1, 30_000, ticket), Outcome.Parked.class);
            advanceTo(T0 + 9_999);
            assertThat(engine.sessionCount()).isEqualTo(1);
            advanceTo(T0 + 10_000);
            assertThat(engine.sessionCount()).isZero();
            for (String id : List.of(a, b)) {
                assertThat(job(id).state()).isEqualTo(JobState.READY);
                assertThat(job(id).attempt()).isEqualTo(1);
                assertThat(job(id).lastError()).contains("lost");
            }
            // the parked lease learns its session is gone
            assertThat(((Outcome.Rejected) effects.answers.get(0)[1]).reason()).isEqualTo(Outcome.Reason.WORKER_NOT_FOUND);
            rejected(new Command.Heartbeat("w1", List.of()), Outcome.Reason.WORKER_NOT_FOUND);
        }

        @Test
        void sessionLostOnTheLastAttempt_isDeadWithWorkerLost() {
            String id = enqueueOne(spec("q", 0));
            for (int i = 1; i <= 3; i++) {
                register("w" + i, 0);
                leaseOne("w" + i);
                advanceTo(now + 10_000);
            }
            assertThat(job(id).state()).isEqualTo(JobState.DEAD);
            assertThat(job(id).deadReason()).isEqualTo(DeadReason.WORKER_LOST);
        }

        @Test
        void anyCallWithTheWorkerId_renewsTheSession() {
            enqueueOne(spec("q", 0));
            register("w1", 0);
            now = T0 + 9_000;
            lease("w1", 1);
            advanceTo(T0 + 18_000);
            assertThat(engine.sessionCount()).isEqualTo(1);
        }

        @Test
        void deregister_releasesHeldJobsWithoutCharge() {
            String id = enqueueOne(spec("q", 0));
            register("w1", 0);
            leaseOne("w1");
            Outcome.Deregistered d = apply(new Command.Deregister("w1"), Outcome.Deregistered.class);
            assertThat(d.released()).isEqualTo(1);
            assertThat(job(id).state()).isEqualTo(JobState.READY);
            assertThat(job(id).attempt()).isZero();
            assertThat(engine.sessionCount()).isZero();
        }
    }

    @Nested
    class Cancel {
        @Test
        void readyScheduledAndDeadJobs_areCanceledAtOnce() {
            String ready = enqueueOne(spec("q", 0));
            String scheduled = enqueueOne(withDelay(spec("q", 0), 60_000));
            String dead = enqueueOne(spec("q", 0));
            register("w1", 0);
            apply(new Command.CancelJob(ready), Outcome.Canceled.class);
            Outcome.LeasedJob lj = leaseOne("w1");
            assertThat(lj.job().id()).isEqualTo(dead);
            nack(lj, true);
            for (String id : List.of(ready, scheduled, dead)) {
                if (!id.equals(ready)) {
                    assertThat(apply(new Command.CancelJob(id), Outcome.Canceled.class).state()).isEqualTo(JobState.CANCELED);
                }
                assertThat(job(id).state()).isEqualTo(JobState.CANCELED);
            }
            assertThat(job(dead).deadReason()).isEqualTo(DeadReason.NON_RETRYABLE);
            assertThat(lease("w1", 5)).isEmpty();
        }

        @Test
        void leasedJob_getsACancelRequest_toldInTheNextHeartbeat_andEndsCanceledOnNack() {
            String id = enqueueOne(spec("q", 0));
            register("w1", 0);
            Outcome.LeasedJob lj = leaseOne("w1");
            assertThat(apply(new Command.CancelJob(id), Outcome.Canceled.class).state()).isEqualTo(JobState.LEASED);
            Outcome.HeartbeatAnswer hb = apply(new Command.Heartbeat("w1", List.of(id)), Outcome.HeartbeatAnswer.class);
            assertThat(hb.canceledJobIds()).containsExactly(id);
            assertThat(((Outcome.Nacked) nack(lj, false)).state()).isEqualTo(JobState.CANCELED);
        }

        @Test
        void leasedJobWithACancelRequest_isStillSucceededByAnAck() {
            String id = enqueueOne(spec("q", 0));
            register("w1", 0);
            Outcome.LeasedJob lj = leaseOne("w1");
            apply(new Command.CancelJob(id), Outcome.Canceled.class);
            assertThat(ack(id, lj.leaseToken())).isEqualTo(Outcome.AckOutcome.ACKED);
            assertThat(job(id).state()).isEqualTo(JobState.SUCCEEDED);
        }

        @Test
        void leasedJobWithACancelRequest_isCanceledWhenTheLeaseIsLost_neverRetried() {
            String id = enqueueOne(spec("q", 0));
            register("w1", 0);
            leaseOne("w1");
            apply(new Command.CancelJob(id), Outcome.Canceled.class);
            advanceTo(T0 + 10_000);
            assertThat(job(id).state()).isEqualTo(JobState.CANCELED);
        }

        @Test
        void finishedJob_cannotBeCanceled() {
            String id = enqueueOne(spec("q", 0));
            apply(new Command.CancelJob(id), Outcome.Canceled.class);
            rejected(new Command.CancelJob(id), Outcome.Reason.JOB_FINISHED);
            rejected(new Command.CancelJob("unknown"), Outcome.Reason.JOB_NOT_FOUND);
        }
    }

    @Nested
    class Retention {
        @Test
        void succeededJob_isKeptForTheRetention_thenDeleted() {
            String id = enqueueOne(spec("q", 0));
            register("w1", 0);
            Outcome.LeasedJob lj = leaseOne("w1");
            ack(id, lj.leaseToken());
            advanceTo(T0 + 299_999);
            assertThat(job(id).state()).isEqualTo(JobState.SUCCEEDED);
            advanceTo(T0 + 300_000);
            rejected(new Command.GetJob(id), Outcome.Reason.JOB_NOT_FOUND);
            assertThat(effects.stored).doesNotContainKey(id);
            // the id is free again
            assertThat(enqueue(withJobId(spec("q", 0), id)).get(0).duplicate()).isFalse();
        }

        @Test
        void finishedJobs_areDeletedAtTheirRetentionsEnd_withoutTheirRecordsBeingReadBack() {
            String succeeded = enqueueOne(spec("q", 0));
            String canceled = enqueueOne(spec("q", 0));
            register("w1", 0);
            ack(succeeded, leaseOne("w1").leaseToken());
            apply(new Command.CancelJob(canceled), Outcome.Canceled.class);
            assertThat(engine.count("q", JobState.SUCCEEDED)).isEqualTo(1);
            assertThat(engine.count("q", JobState.CANCELED)).isEqualTo(1);

            effects.records.clear(); // an archive that cannot answer: deletion needs no read
            advanceTo(T0 + 300_000);

            assertThat(effects.stored).doesNotContainKeys(succeeded, canceled);
            assertThat(engine.count("q", JobState.SUCCEEDED)).isZero();
            assertThat(engine.count("q", JobState.CANCELED)).isZero();
        }

        @Test
        void deadJob_isKeptUntilDeleted() {
            String id = enqueueOne(spec("q", 0));
            register("w1", 0);
            nack(leaseOne("w1"), true);
            advanceTo(T0 + 10 * 300_000);
            assertThat(job(id).state()).isEqualTo(JobState.DEAD);
        }
    }

    @Nested
    class QueueLimits {
        void configure(QueueConfig config) {
            apply(new Command.UpdateQueue("q", config, List.of()), Outcome.Queue.class);
        }

        @Test
        void rateLimit_startsWithOneSecondsWorth_thenRefillsAtItsRate() {
            configure(new QueueConfig(null, 50.0, null, null, null, null, null));
            for (int i = 0; i < 1_000; i++) {
                enqueueOne(spec("q", 0));
            }
            register("w1", 0);
            assertThat(lease("w1", 1_000)).hasSize(50);
            int leased = 0;
            for (int step = 1; step <= 500; step++) { // 5 s in steps of 10 ms
                now = T0 + step * 10L;
                leased += lease("w1", 1_000).size();
            }
            assertThat(leased).isEqualTo(250);
        }

        @Test
        void rateBelowOnePerSecond_stillLeases() {
            configure(new QueueConfig(null, 0.5, null, null, null, null, null));
            enqueueOne(spec("q", 0));
            enqueueOne(spec("q", 0));
            register("w1", 0);
            assertThat(lease("w1", 5)).hasSize(1);
            now = T0 + 1_999;
            assertThat(lease("w1", 5)).isEmpty();
            now = T0 + 2_000;
            assertThat(lease("w1", 5)).hasSize(1);
        }

        @Test
        void aVanishinglySmallRate_neverMakesTheNextDeadlineOverflow() {
            // found by the fuzz test: the next token's time overflowed to a negative deadline
            configure(new QueueConfig(null, Double.MIN_VALUE, null, null, null, null, null));
            enqueueOne(spec("q", 0));
            enqueueOne(spec("q", 0));
            register("w1", 0);
            assertThat(lease("w1", 5)).hasSize(1);
            apply(new Command.Lease("w1", List.of(), 1, 32, new Object()), Outcome.Parked.class);
            assertThat(engine.nextDeadline()).isEqualTo(T0 + 32);
            advanceTo(T0 + 32);
            assertThat(((Outcome.Leased) effects.answers.get(0)[1]).jobs()).isEmpty();
        }

        @Test
        void parkedLease_isServedWhenTheBucketRefills() {
            configure(new QueueConfig(null, 10.0, null, null, null, null, null));
            for (int i = 0; i < 11; i++) {
                enqueueOne(spec("q", 0));
            }
            register("w1", 0);
            assertThat(lease("w1", 100)).hasSize(10);
            Object ticket = new Object();
            apply(new Command.Lease("w1", List.of(), 1, 5_000, ticket), Outcome.Parked.class);
            assertThat(engine.nextDeadline()).isEqualTo(T0 + 100);
            advanceTo(T0 + 100);
            assertThat(((Outcome.Leased) effects.answers.get(0)[1]).jobs()).hasSize(1);
        }

        @Test
        void maxDepth_refusesABatchThatWouldPassIt_andStoresNothing() {
            configure(new QueueConfig(null, null, null, 2L, null, null, null));
            enqueueOne(spec("q", 0));
            Outcome.Rejected r = rejected(new Command.Enqueue(List.of(spec("q", 0), spec("q", 0)), List.of("x", "y")),
                    Outcome.Reason.QUEUE_FULL);
            assertThat(r.message()).contains("max_depth is 2");
            assertThat(engine.jobCount()).isEqualTo(1);
        }

        @Test
        void pausedQueue_leasesNothingUntilResumed() {
            configure(new QueueConfig(true, null, null, null, null, null, null));
            enqueueOne(spec("q", 0));
            register("w1", 0);
            assertThat(lease("w1", 5)).isEmpty();
            configure(new QueueConfig(false, null, null, null, null, null, null));
            assertThat(lease("w1", 5)).hasSize(1);
        }
    }

    @Nested
    class Recovery {
        @Test
        void restoredFinishedJobs_areDeletedWhenTheirRetentionEnds_whateverTheStoresOrder() {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                ids.add(enqueueOne(spec("q", 0)));
            }
            register("w1", 0);
            Outcome.LeasedJob first = leaseOne("w1");
            now = T0 + 1_000;
            apply(new Command.CancelJob(ids.get(3)), Outcome.Canceled.class);
            now = T0 + 2_000;
            ack(first.job().id(), first.leaseToken());
            now = T0 + 3_000;
            apply(new Command.CancelJob(ids.get(1)), Outcome.Canceled.class);
            Recorded after = new Recorded();
            for (String id : List.of(ids.get(1), ids.get(3), ids.get(0), ids.get(2))) {
                after.records.put(id, job(id));
            }

            Engine restarted = new Engine(CONFIG, after, after);
            restarted.restore(Map.of(), List.of(), List.of(), 1, T0 + 10_000, T0 + 3_000);
            restarted.apply(new Command.Tick(), T0 + 300_999);
            assertThat(after.records).containsOnlyKeys(ids);
            restarted.apply(new Command.Tick(), T0 + 301_000);
            assertThat(after.records).containsOnlyKeys(ids.get(0), ids.get(1), ids.get(2));
            restarted.apply(new Command.Tick(), T0 + 302_000);
            assertThat(after.records).containsOnlyKeys(ids.get(1), ids.get(2));
            assertThat(restarted.count("q", JobState.SUCCEEDED)).isZero();
            assertThat(restarted.count("q", JobState.CANCELED)).isEqualTo(1);
            restarted.apply(new Command.Tick(), T0 + 303_000);
            assertThat(after.records).containsOnlyKeys(ids.get(2)); // READY: no retention
            assertThat(restarted.count("q", JobState.CANCELED)).isZero();
            assertThat(restarted.nextDeadline()).isEqualTo(Long.MAX_VALUE);
        }

        @Test
        void restoredLeases_areRenewedAndTheirTimeoutMovedOnByTheDowntime() {
            String id = enqueueOne(withLease(spec("q", 0), 5_000, 20_000));
            register("w1", 0);
            leaseOne("w1");
            Job stored = job(id);
            Session session = new Session("w1", "w1", List.of("q"), 0, Map.of(), T0);

            // the broker was down from T0 + 1 s to T0 + 61 s
            Recorded after = new Recorded();
            after.records.put(id, stored);
            Engine restarted = new Engine(CONFIG, after, after);
            long start = T0 + 61_000;
            restarted.restore(Map.of(), List.of(session), List.of(), 7, start, T0 + 1_000);
            Job j = ((Outcome.JobFound) restarted.apply(new Command.GetJob(id), start)).job();
            assertThat(j.state()).isEqualTo(JobState.LEASED);
            assertThat(j.attemptDeadlineMillis()).isEqualTo(T0 + 20_000 + 60_000);
            assertThat(j.leaseDeadlineMillis()).isEqualTo(start + 5_000);
            assertThat(after.stored).containsEntry(id, JobState.LEASED);
            assertThat(restarted.sessionCount()).isEqualTo(1);
            // the session counts as just heard from
            restarted.apply(new Command.Tick(), start + 4_999);
            assertThat(restarted.sessionCount()).isEqualTo(1);
        }
    }
}
