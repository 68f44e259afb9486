package io.hoist.broker.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The broker's state machine: {@link #apply(Command, long)} changes the in-memory indexes and
 * reports every durable change to {@link Effects}. It reads no clock and draws no random number:
 * given the same state, commands and times, it does the same thing.
 *
 * <p>Only LEASED and SCHEDULED jobs are held as objects ({@link #active}); READY jobs are entries
 * in their queue's ready rings and finished or DEAD ones are only counted, their records read back
 * from the {@link JobArchive} when a call names them.
 *
 * <p>Not thread-safe: one thread (the runtime's engine loop) owns an engine.
 */
public final class Engine {
    private final EngineConfig config;
    private final Effects effects;
    private final JobArchive archive;

    /** LEASED and SCHEDULED jobs: the ones workers and timers act on. */
    private final Map<String, Job> active = new HashMap<>();
    private final Map<String, QueueState> queues = new TreeMap<>();
    private final Map<String, Session> sessions = new HashMap<>();
    private final Map<String, UniqueHold> holds = new HashMap<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

    private final DeadlineQueue<Job> delayed = new DeadlineQueue<>(
            e -> e.item().state == JobState.SCHEDULED && e.item().slot == e.slot());
    private final DeadlineQueue<Job> leases = new DeadlineQueue<>(
            e -> e.item().state == JobState.LEASED && e.item().slot == e.slot()
                    && e.item().leaseDeadlineMillis == e.atMillis());
    /**
     * The queues' rings of finished jobs ({@link QueueState#finished}), one entry for each that is
     * not empty, by the time its first job's retention ends. A SUCCEEDED or CANCELED job never
     * changes again and nothing else deletes it, so its id in the ring is all its deletion needs:
     * no record is read back (two point reads, a third of the engine thread in a drain with a
     * short retention), and a job waiting out its retention holds ~34 bytes of heap, not ~114.
     */
    private final DeadlineQueue<Retained> retention = new DeadlineQueue<>(e -> true);
    private final DeadlineQueue<UniqueHold> holdExpiry = new DeadlineQueue<>(
            e -> holds.get(holdKey(e.item().queue(), e.item().key())) == e.item());

    private long nextSlot = 1;
    private long nextOrder = 1;
    private long deliverySeq;
    private boolean readyChanged;
    private boolean shuttingDown;

    /** A queue's ring of finished jobs in one state. */
    private record Retained(QueueState queue, JobState state) {
        IdRing ring() {
            return queue.finished(state);
        }
    }

    private static final class Waiter {
        final Object ticket;
        final Session session;
        final List<String> queues;
        final int maxJobs;
        final long deadlineMillis;

        Waiter(Object ticket, Session session, List<String> queues, int maxJobs, long deadlineMillis) {
            this.ticket = ticket;
            this.session = session;
            this.queues = queues;
            this.maxJobs = maxJobs;
            this.deadlineMillis = deadlineMillis;
        }
    }

    public Engine(EngineConfig config, Effects effects, JobArchive archive) {
        this.config = config;
        this.effects = effects;
        this.archive = archive;
    }

    // ------------------------------------------------------------------ recovery

    /**
     * Rebuilds the indexes from what the store holds, the jobs by one pass over the archive. Every
     * session counts as just heard from and every lease as just renewed, with its attempt's timeout
     * moved on by the downtime, so that workers that reconnect in time keep their jobs. Leases
     * changed that way are written back.
     *
     * @param lastAliveMillis the last round the broker committed before it stopped (0 if unknown)
     */
    public void restore(Map<String, QueueConfig> storedQueues, Collection<Session> storedSessions,
                        Collection<UniqueHold> storedHolds, long storedDeliverySeq, long nowMillis,
                        long lastAliveMillis) {
        deliverySeq = storedDeliverySeq;
        storedQueues.forEach((name, config) -> queue(name).configure(config, nowMillis));
        for (Session s : storedSessions) {
            s.lastSeenMillis = nowMillis;
            sessions.put(s.workerId(), s);
        }
        for (UniqueHold h : storedHolds) {
            holds.put(holdKey(h.queue(), h.key()), h);
            if (h.untilMillis() != UniqueHold.WHILE_ACTIVE) {
                holdExpiry.add(h.untilMillis(), 0, h);
            }
        }
        long downtime = lastAliveMillis > 0 ? Math.max(0, nowMillis - lastAliveMillis) : 0;
        archive.forEachJob(job -> {
            nextOrder = Math.max(nextOrder, job.order + 1);
            job.slot = nextSlot++;
            queue(job.queue()).counted(null, job.state);
            switch (job.state) {
                case READY -> queue(job.queue()).pushReady(job);
                case SCHEDULED -> {
                    active.put(job.id(), job);
                    delayed.add(job.runAtMillis, job.slot, job);
                }
                case LEASED -> {
                    active.put(job.id(), job);
                    job.attemptDeadlineMillis += downtime;
                    job.leaseDeadlineMillis = Math.min(job.attemptDeadlineMillis,
                            Math.max(job.leaseDeadlineMillis, nowMillis + job.leaseDurationMillis()));
                    leases.add(job.leaseDeadlineMillis, job.slot, job);
                    Session holder = sessions.get(job.workerId);
                    if (holder != null) {
                        holder.held.add(job);
                    }
                    effects.jobChanged(job);
                }
                case SUCCEEDED, CANCELED -> queue(job.queue()).finished(job.state)
                        .add(job.id(), job.finishedAtMillis + config.retentionMillis());
                case DEAD -> { }
            }
        });
        for (QueueState q : queues.values()) {
            q.sortRings();
            for (JobState finished : List.of(JobState.SUCCEEDED, JobState.CANCELED)) {
                scheduleRetention(new Retained(q, finished));
            }
        }
    }

    // ------------------------------------------------------------------ commands

    /** Applies one command at time {@code nowMillis} (epoch millis) and answers it. */
    public Outcome apply(Command command, long nowMillis) {
        Outcome outcome;
        if (command instanceof Command.Enqueue c) {
            outcome = enqueue(c, nowMillis);
        } else if (command instanceof Command.GetJob c) {
            outcome = getJob(c);
        } else if (command instanceof Command.CancelJob c) {
            outcome = cancel(c, nowMillis);
        } else if (command instanceof Command.Register c) {
            outcome = register(c, nowMillis);
        } else if (command instanceof Command.Heartbeat c) {
            outcome = heartbeat(c, nowMillis);
        } else if (command instanceof Command.Lease c) {
            outcome = lease(c, nowMillis);
        } else if (command instanceof Command.Unpark c) {
            outcome = unpark(c.ticket());
        } else if (command instanceof Command.Ack c) {
            outcome = ack(c, nowMillis);
        } else if (command instanceof Command.Nack c) {
            outcome = nack(c, nowMillis);
        } else if (command instanceof Command.Deregister c) {
            outcome = deregister(c, nowMillis);
        } else if (command instanceof Command.ListQueues) {
            outcome = new Outcome.Queues(queues.values().stream().map(Engine::info).toList());
        } else if (command instanceof Command.UpdateQueue c) {
            outcome = updateQueue(c, nowMillis);
        } else if (command instanceof Command.PurgeQueue c) {
            outcome = purge(c);
        } else if (command instanceof Command.ListJobs c) {
            outcome = listJobs(c);
        } else if (command instanceof Command.RequeueDead c) {
            outcome = requeueDead(c, nowMillis);
        } else if (command instanceof Command.DeleteDead c) {
            outcome = deleteDead(c);
        } else if (command instanceof Command.ListWorkers) {
            outcome = new Outcome.Workers(sessions.values().stream().map(Engine::info).toList());
        } else if (command instanceof Command.Tick) {
            outcome = tick(nowMillis);
        } else if (command instanceof Command.Shutdown) {
            outcome = shutdown();
        } else {
            throw new IllegalArgumentException("unknown command " + command);
        }
        if (readyChanged) {
            readyChanged = false;
            serveWaiters(nowMillis);
        }
        return outcome;
    }

    /** The earliest time a {@link Command.Tick} has work to do, or {@code Long.MAX_VALUE}. */
    public long nextDeadline() {
        long next = Math.min(delayed.nextDeadline(), leases.nextDeadline());
        next = Math.min(next, retention.nextDeadline());
        next = Math.min(next, holdExpiry.nextDeadline());
        for (Session s : sessions.values()) {
            next = Math.min(next, s.lastSeenMillis + config.sessionTimeoutMillis());
        }
        for (Waiter w : waiters) {
            next = Math.min(next, w.deadlineMillis);
        }
        if (!waiters.isEmpty()) {
            for (QueueState q : queues.values()) {
                next = Math.min(next, q.nextTokenAtMillis()); // a rate-limited queue can serve again
            }
        }
        return next;
    }

    private Outcome enqueue(Command.Enqueue c, long now) {
        if (shuttingDown) {
            return new Outcome.Rejected(Outcome.Reason.SHUTTING_DOWN, "the broker is shutting down");
        }
        Outcome.Rejected full = checkDepth(c.specs(), now);
        if (full != null) {
            return full;
        }
        List<Outcome.EnqueuedJob> answers = new ArrayList<>(c.specs().size());
        for (int i = 0; i < c.specs().size(); i++) {
            JobSpec spec = c.specs().get(i);
            Outcome.EnqueuedJob duplicate = duplicateOf(spec, now);
            if (duplicate != null) {
                answers.add(duplicate);
                continue;
            }
            Job job = create(spec, spec.hasJobId() ? spec.jobId() : c.newIds().get(i), now);
            answers.add(new Outcome.EnqueuedJob(job.id(), false, job.state));
        }
        return new Outcome.Enqueued(answers);
    }

    /** The existing job a spec repeats (by client job id, then by unique key), or null. */
    private Outcome.EnqueuedJob duplicateOf(JobSpec spec, long now) {
        Job existing = spec.hasJobId() ? find(spec.jobId()) : null;
        if (existing != null) {
            return new Outcome.EnqueuedJob(existing.id(), true, existing.state);
        }
        UniqueHold hold = spec.hasUniqueKey() ? holds.get(holdKey(spec.queue(), spec.uniqueKey())) : null;
        if (hold != null && hold.heldAt(now)) {
            Job holder = find(hold.jobId());
            return new Outcome.EnqueuedJob(hold.jobId(), true, holder != null ? holder.state : hold.state());
        }
        return null;
    }

    /** A batch that would take a queue past its max_depth is refused whole (duplicates add nothing). */
    private Outcome.Rejected checkDepth(List<JobSpec> specs, long now) {
        Map<String, Integer> adds = null;
        java.util.Set<String> seen = null;
        for (JobSpec spec : specs) {
            QueueState q = queues.get(spec.queue());
            if (q == null || q.config().depthLimit() <= 0) {
                continue;
            }
            if (seen == null) {
                seen = new java.util.HashSet<>();
                adds = new HashMap<>();
            }
            boolean repeat = (spec.hasJobId() && !seen.add("id:" + spec.jobId()))
                    | (spec.hasUniqueKey() && !seen.add("key:" + holdKey(spec.queue(), spec.uniqueKey())));
            if (repeat || duplicateOf(spec, now) != null) {
                continue;
            }
            int n = adds.merge(spec.queue(), 1, Integer::sum);
            if (q.depth() + n > q.config().depthLimit()) {
                return new Outcome.Rejected(Outcome.Reason.QUEUE_FULL, "queue " + q.name() + " holds " + q.depth()
                        + " jobs, its max_depth is " + q.config().depthLimit() + ": the batch was not stored");
            }
        }
        return null;
    }

    private Job create(JobSpec spec, String id, long now) {
        QueueConfig qc = queue(spec.queue()).config();
        RetryPolicy queueRetry = (qc.retry() != null ? qc.retry() : RetryPolicy.Override.NONE).applyTo(config.defaultRetry());
        RetryPolicy retry = (spec.retry() != null ? spec.retry() : RetryPolicy.Override.NONE).applyTo(queueRetry);
        long leaseDuration = spec.leaseDurationMillis() != null ? spec.leaseDurationMillis()
                : qc.leaseDurationMillis() != null ? qc.leaseDurationMillis() : config.defaultLeaseDurationMillis();
        long timeout = spec.timeoutMillis() != null ? spec.timeoutMillis()
                : qc.timeoutMillis() != null ? qc.timeoutMillis() : config.defaultTimeoutMillis();
        Job job = new Job(id, spec, now, retry, leaseDuration, timeout);
        long runAt = spec.runAtMillis() != null ? spec.runAtMillis()
                : spec.delayMillis() != null ? now + spec.delayMillis() : now;
        if (runAt > now) {
            schedule(job, runAt);
        } else {
            makeReady(job, now);
        }
        if (spec.hasUniqueKey()) {
            storeHold(new UniqueHold(spec.queue(), spec.uniqueKey(), id, UniqueHold.WHILE_ACTIVE, job.state));
        }
        effects.jobCreated(job);
        effects.observed(JobEvent.ENQUEUED, spec.queue(), 0);
        queue(spec.queue()).enqueuedTotal++;
        return job;
    }

    private Outcome getJob(Command.GetJob c) {
        Job job = find(c.jobId());
        return job == null ? jobNotFound(c.jobId()) : new Outcome.JobFound(job.copy());
    }

    private Outcome cancel(Command.CancelJob c, long now) {
        Job job = find(c.jobId());
        if (job == null) {
            return jobNotFound(c.jobId());
        }
        switch (job.state) {
            case SCHEDULED, READY, DEAD -> {
                finish(job, JobState.CANCELED, now);
                return new Outcome.Canceled(JobState.CANCELED);
            }
            case LEASED -> {
                if (!job.cancelRequested) {
                    job.cancelRequested = true;
                    effects.jobChanged(job);
                }
                return new Outcome.Canceled(JobState.LEASED);
            }
            default -> {
                return new Outcome.Rejected(Outcome.Reason.JOB_FINISHED,
                        "job " + job.id() + " is already " + job.state + ": nothing to cancel");
            }
        }
    }

    private Outcome register(Command.Register c, long now) {
        Session s = new Session(c.workerId(), c.name(), c.queues(), c.concurrency(), c.labels(), now);
        sessions.put(s.workerId(), s);
        effects.sessionStored(s);
        return new Outcome.Registered(s.workerId());
    }

    private Outcome heartbeat(Command.Heartbeat c, long now) {
        Session s = touch(c.workerId(), now);
        if (s == null) {
            return workerNotFound(c.workerId());
        }
        List<String> lost = new ArrayList<>();
        for (String id : c.activeJobIds()) {
            Job job = active.get(id);
            if (job != null && job.state == JobState.LEASED && job.workerId.equals(s.workerId())) {
                long deadline = Math.min(now + job.leaseDurationMillis(), job.attemptDeadlineMillis);
                if (deadline != job.leaseDeadlineMillis) {
                    job.leaseDeadlineMillis = deadline;
                    leases.add(deadline, job.slot, job);
                }
            } else {
                lost.add(id);
            }
        }
        List<String> canceled = new ArrayList<>();
        for (Job job : s.held) {
            if (job.cancelRequested) {
                canceled.add(job.id());
            }
        }
        return new Outcome.HeartbeatAnswer(canceled, lost, shuttingDown);
    }

    private Outcome lease(Command.Lease c, long now) {
        Session s = touch(c.workerId(), now);
        if (s == null) {
            return workerNotFound(c.workerId());
        }
        List<String> wanted = c.queues().isEmpty() ? s.queues() : c.queues();
        int max = Math.max(1, c.maxJobs());
        List<Outcome.LeasedJob> taken = shuttingDown ? List.of() : take(s, wanted, max, now);
        if (!taken.isEmpty() || c.waitMillis() <= 0 || shuttingDown) {
            return new Outcome.Leased(taken);
        }
        long wait = Math.min(c.waitMillis(), config.maxLeaseWaitMillis());
        waiters.addLast(new Waiter(c.ticket(), s, wanted, max, now + wait));
        return new Outcome.Parked();
    }

    /** A parked lease ends empty, so that it takes no jobs; its caller has its answer either way. */
    private Outcome unpark(Object ticket) {
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
            Waiter w = it.next();
            if (w.ticket == ticket) {
                it.remove();
                effects.answer(ticket, new Outcome.Leased(List.of()));
                break;
            }
        }
        return new Outcome.Done();
    }

    /** Leases up to {@code max} jobs from the queues in order, within the worker's concurrency. */
    private List<Outcome.LeasedJob> take(Session s, List<String> wanted, int max, long now) {
        int capacity = s.capacity(max);
        List<Outcome.LeasedJob> taken = new ArrayList<>(Math.min(capacity, 16));
        for (String name : wanted) {
            QueueState q = queues.get(name);
            if (q == null || !q.hasReady()) {
                continue;
            }
            int allowed = q.leasable(capacity - taken.size(), now);
            for (int i = 0; i < allowed; i++) {
                Job job = q.pollReady(this::readyJob);
                if (job == null) {
                    break;
                }
                q.leased();
                deliver(job, s, now);
                taken.add(new Outcome.LeasedJob(job.copy(), job.leaseToken, job.leaseDeadlineMillis));
            }
        }
        if (!taken.isEmpty()) {
            effects.deliverySeqStored(deliverySeq);
        }
        return taken;
    }

    private void deliver(Job job, Session s, long now) {
        effects.observed(JobEvent.LEASED, job.queue(), now - job.runAtMillis);
        queue(job.queue()).leasedTotal++;
        setState(job, JobState.LEASED);
        job.attempt++;
        job.workerId = s.workerId();
        job.leaseToken = Long.toString(++deliverySeq, 36);
        job.attemptDeadlineMillis = now + job.timeoutMillis();
        job.leaseDeadlineMillis = Math.min(now + job.leaseDurationMillis(), job.attemptDeadlineMillis);
        leases.add(job.leaseDeadlineMillis, job.slot, job);
        s.held.add(job);
        effects.jobChanged(job);
    }

    private Outcome ack(Command.Ack c, long now) {
        touch(c.workerId(), now);
        List<Outcome.AckResult> results = new ArrayList<>(c.acks().size());
        for (Command.AckItem item : c.acks()) {
            Job job = find(item.jobId());
            Outcome.AckOutcome outcome;
            if (job == null) {
                outcome = Outcome.AckOutcome.NOT_FOUND;
            } else if (!holdsToken(job, item.leaseToken())) {
                outcome = Outcome.AckOutcome.LEASE_LOST;
            } else if (job.state == JobState.LEASED) {
                effects.observed(JobEvent.ACKED, job.queue(), now - (job.attemptDeadlineMillis - job.timeoutMillis()));
                queue(job.queue()).ackedTotal++;
                finish(job, JobState.SUCCEEDED, now);
                outcome = Outcome.AckOutcome.ACKED;
            } else {
                // a repeated ack of a delivery that was already acked is harmless
                outcome = job.state == JobState.SUCCEEDED ? Outcome.AckOutcome.ACKED : Outcome.AckOutcome.LEASE_LOST;
            }
            results.add(new Outcome.AckResult(item.jobId(), outcome));
        }
        return new Outcome.Acked(results);
    }

    private Outcome nack(Command.Nack c, long now) {
        touch(c.workerId(), now);
        Job job = find(c.jobId());
        if (job == null) {
            return jobNotFound(c.jobId());
        }
        if (job.state != JobState.LEASED || !holdsToken(job, c.leaseToken())) {
            return new Outcome.Rejected(Outcome.Reason.LEASE_LOST,
                    "lease lost: job " + job.id() + " is not leased with that token (it is " + job.state + ")");
        }
        job.recordError(c.error(), now);
        effects.observed(JobEvent.NACKED, job.queue(), 0);
        if (job.cancelRequested) {
            finish(job, JobState.CANCELED, now);
        } else if (c.nonRetryable()) {
            bury(job, DeadReason.NON_RETRYABLE, now);
        } else if (job.attempt >= job.retry().maxAttempts()) {
            bury(job, DeadReason.ATTEMPTS_EXHAUSTED, now);
        } else {
            long backoff = c.retryAfterMillis() != null ? c.retryAfterMillis()
                    : job.retry().backoffMillis(job.attempt, Jitter.fraction(job.id(), job.attempt));
            release(job);
            schedule(job, now + backoff);
            effects.jobChanged(job);
            effects.observed(JobEvent.RETRIED, job.queue(), 0);
        }
        return new Outcome.Nacked(job.state, job.runAtMillis);
    }

    private Outcome deregister(Command.Deregister c, long now) {
        Session s = sessions.remove(c.workerId());
        if (s == null) {
            return workerNotFound(c.workerId());
        }
        int released = s.held.size();
        for (Job job : new ArrayList<>(s.held)) {
            if (job.cancelRequested) {
                finish(job, JobState.CANCELED, now);
            } else {
                job.attempt--; // a graceful exit does not charge the delivery
                release(job);
                makeReady(job, now);
                effects.jobChanged(job);
            }
        }
        answerWaitersOf(s, new Outcome.Leased(List.of()));
        effects.sessionDeleted(s.workerId());
        return new Outcome.Deregistered(released);
    }

    private Outcome tick(long now) {
        if (!waiters.isEmpty()) {
            readyChanged = true; // a rate limit's bucket may have refilled for them
        }
        Job job;
        while ((job = delayed.pollDue(now)) != null) {
            makeReady(job, now);
            effects.jobChanged(job);
        }
        while ((job = leases.pollDue(now)) != null) {
            loseLease(job, DeadReason.LEASE_EXPIRED, "lease expired", now);
        }
        for (Session s : new ArrayList<>(sessions.values())) {
            if (s.lastSeenMillis + config.sessionTimeoutMillis() <= now) {
                expire(s, now);
            }
        }
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
            Waiter w = it.next();
            if (w.deadlineMillis <= now) {
                it.remove();
                effects.answer(w.ticket, new Outcome.Leased(List.of()));
            }
        }
        Retained due;
        while ((due = retention.pollDue(now)) != null) {
            IdRing ring = due.ring();
            while (!ring.isEmpty() && ring.headOrder() <= now) {
                effects.jobDeleted(ring.headId());
                ring.removeHead();
                due.queue().counted(due.state(), null);
            }
            scheduleRetention(due);
        }
        UniqueHold hold;
        while ((hold = holdExpiry.pollDue(now)) != null) {
            holds.remove(holdKey(hold.queue(), hold.key()));
            effects.uniqueDeleted(hold.queue(), hold.key());
        }
        return new Outcome.Done();
    }

    private Outcome shutdown() {
        shuttingDown = true;
        for (Waiter w : waiters) {
            effects.answer(w.ticket, new Outcome.Leased(List.of()));
        }
        waiters.clear();
        return new Outcome.Done();
    }

    // ------------------------------------------------------------------ operators

    private Outcome updateQueue(Command.UpdateQueue c, long now) {
        QueueState q = queue(c.name());
        QueueConfig next = q.config().update(c.patch(), c.paths());
        q.configure(next, now);
        effects.queueStored(q.name(), next);
        effects.noted(new Notice.QueueConfigured(q.name(), next));
        readyChanged = true; // resumed, or limits raised: parked leases may be served now
        return new Outcome.Queue(info(q));
    }

    private Outcome purge(Command.PurgeQueue c) {
        if (!queues.containsKey(c.name())) {
            return queueNotFound(c.name());
        }
        List<Job> doomed = jobsOf(c.name(), j -> j.state == JobState.SCHEDULED || j.state == JobState.READY);
        doomed.forEach(this::delete);
        queue(c.name()).dropReadyEntriesIfNone();
        effects.noted(new Notice.JobsRemoved(c.name(), "purged", doomed.size()));
        return new Outcome.Count(doomed.size());
    }

    private Outcome listJobs(Command.ListJobs c) {
        if (!queues.containsKey(c.queue())) {
            return queueNotFound(c.queue());
        }
        boolean leaseOrder = c.state() == JobState.READY;
        PageKey after = c.pageToken().isEmpty() ? null : PageKey.parse(c.pageToken());
        List<Job> matching = jobsOf(c.queue(), j -> (c.state() == null || j.state == c.state())
                && (after == null || PageKey.of(j, leaseOrder).compareTo(after) > 0));
        matching.sort(Comparator.comparing((Job j) -> PageKey.of(j, leaseOrder)));
        List<Job> page = new ArrayList<>(Math.min(matching.size(), c.pageSize()));
        for (Job j : matching.subList(0, Math.min(matching.size(), c.pageSize()))) {
            page.add(j.copy());
        }
        String next = matching.size() > c.pageSize() ? PageKey.of(page.get(page.size() - 1), leaseOrder).token() : "";
        return new Outcome.Jobs(page, next);
    }

    private Outcome requeueDead(Command.RequeueDead c, long now) {
        if (!queues.containsKey(c.queue())) {
            return queueNotFound(c.queue());
        }
        List<Job> dead = deadOf(c.queue(), c.jobIds());
        for (Job job : dead) {
            job.attempt = 0;
            job.deadReason = DeadReason.NONE;
            job.finishedAtMillis = 0;
            makeReady(job, now);
            JobSpec spec = job.spec();
            if (spec.hasUniqueKey()) {
                UniqueHold hold = holds.get(holdKey(spec.queue(), spec.uniqueKey()));
                if (hold == null || hold.jobId().equals(job.id()) || !hold.heldAt(now)) {
                    storeHold(new UniqueHold(spec.queue(), spec.uniqueKey(), job.id(), UniqueHold.WHILE_ACTIVE, job.state));
                }
            }
            effects.jobChanged(job);
        }
        effects.noted(new Notice.JobsRemoved(c.queue(), "requeued from dead", dead.size()));
        return new Outcome.Count(dead.size());
    }

    private Outcome deleteDead(Command.DeleteDead c) {
        if (!queues.containsKey(c.queue())) {
            return queueNotFound(c.queue());
        }
        List<Job> dead = deadOf(c.queue(), c.jobIds());
        dead.forEach(this::delete);
        effects.noted(new Notice.JobsRemoved(c.queue(), "deleted from dead", dead.size()));
        return new Outcome.Count(dead.size());
    }

    /** The DEAD jobs of a queue: all of them, or those of {@code ids} that are. */
    private List<Job> deadOf(String queue, List<String> ids) {
        if (ids.isEmpty()) {
            return jobsOf(queue, j -> j.state == JobState.DEAD);
        }
        List<Job> dead = new ArrayList<>();
        for (String id : new java.util.LinkedHashSet<>(ids)) {
            Job j = find(id);
            if (j != null && j.queue().equals(queue) && j.state == JobState.DEAD) {
                dead.add(j);
            }
        }
        return dead;
    }

    /** The jobs of a queue that pass {@code filter}: the active ones, then the archive's (one scan). */
    private List<Job> jobsOf(String queue, java.util.function.Predicate<Job> filter) {
        List<Job> found = new ArrayList<>();
        for (Job j : active.values()) {
            if (j.queue().equals(queue) && filter.test(j)) {
                found.add(j);
            }
        }
        archive.forEachJob(j -> {
            if (j.queue().equals(queue) && !active.containsKey(j.id()) && filter.test(j)) {
                found.add(j);
            }
        });
        return found;
    }

    /** Removes a job that is not LEASED: from memory, its indexes (their entries go stale) and the store. */
    private void delete(Job job) {
        queue(job.queue()).counted(job.state, null);
        job.slot = nextSlot++;
        active.remove(job.id());
        effects.jobDeleted(job.id());
        JobSpec spec = job.spec();
        if (spec.hasUniqueKey()) {
            UniqueHold hold = holds.get(holdKey(spec.queue(), spec.uniqueKey()));
            if (hold != null && hold.jobId().equals(job.id()) && hold.untilMillis() == UniqueHold.WHILE_ACTIVE) {
                holds.remove(holdKey(spec.queue(), spec.uniqueKey()));
                effects.uniqueDeleted(spec.queue(), spec.uniqueKey());
            }
        }
    }

    private static QueueInfo info(QueueState q) {
        return new QueueInfo(q.name(), q.count(JobState.READY), q.count(JobState.SCHEDULED),
                q.count(JobState.LEASED), q.count(JobState.DEAD), q.config(),
                q.enqueuedTotal, q.leasedTotal, q.ackedTotal, q.deadTotal);
    }

    private static WorkerInfo info(Session s) {
        return new WorkerInfo(s.workerId(), s.name(), s.queues(), s.concurrency(), s.inFlight(),
                s.lastSeenMillis(), s.labels());
    }

    // ------------------------------------------------------------------ transitions

    /** A session silent for its timeout: each of its jobs is released, the delivery charged. */
    private void expire(Session s, long now) {
        sessions.remove(s.workerId());
        effects.noted(new Notice.WorkerLost(s.workerId(), s.name(), s.held.size()));
        for (Job job : new ArrayList<>(s.held)) {
            loseLease(job, DeadReason.WORKER_LOST, "worker " + s.workerId() + " lost", now);
        }
        answerWaitersOf(s, workerNotFound(s.workerId()));
        effects.sessionDeleted(s.workerId());
    }

    /** A lease ended without an ack: READY again at once, or DEAD if that was the last attempt. */
    private void loseLease(Job job, DeadReason reason, String error, long now) {
        job.recordError(error, now);
        effects.observed(JobEvent.LEASE_EXPIRED, job.queue(), 0);
        if (job.cancelRequested) {
            finish(job, JobState.CANCELED, now);
        } else if (job.attempt >= job.retry().maxAttempts()) {
            bury(job, reason, now);
        } else {
            release(job);
            makeReady(job, now);
            effects.jobChanged(job);
            effects.observed(JobEvent.RETRIED, job.queue(), 0);
        }
    }

    private void bury(Job job, DeadReason reason, long now) {
        effects.observed(JobEvent.DEAD, job.queue(), 0);
        effects.noted(new Notice.JobDead(job.id(), job.queue(), reason, job.attempt, job.lastError));
        queue(job.queue()).deadTotal++;
        job.deadReason = reason;
        finish(job, JobState.DEAD, now);
    }

    /** Ends a job as SUCCEEDED, DEAD or CANCELED. */
    private void finish(Job job, JobState end, long now) {
        if (job.state == JobState.LEASED) {
            release(job);
        }
        setState(job, end);
        job.finishedAtMillis = now;
        if (end != JobState.DEAD) {
            retain(job, end, now + config.retentionMillis());
        }
        JobSpec spec = job.spec();
        if (spec.hasUniqueKey()) {
            UniqueHold hold = holds.get(holdKey(spec.queue(), spec.uniqueKey()));
            if (hold != null && hold.jobId().equals(job.id())) {
                if (spec.uniqueForMillis() > 0) {
                    storeHold(new UniqueHold(spec.queue(), spec.uniqueKey(), job.id(), now + spec.uniqueForMillis(), end));
                } else {
                    holds.remove(holdKey(spec.queue(), spec.uniqueKey()));
                    effects.uniqueDeleted(spec.queue(), spec.uniqueKey());
                }
            }
        }
        effects.jobChanged(job);
    }

    /** Puts the ring's first deletion on the retention heap, if the ring has one. */
    private void scheduleRetention(Retained r) {
        IdRing ring = r.ring();
        if (!ring.isEmpty()) {
            retention.add(ring.headOrder(), 0, r);
        }
    }

    /** Puts a finished job in its queue's ring, to be deleted at {@code dueMillis}. */
    private void retain(Job job, JobState state, long dueMillis) {
        QueueState q = queue(job.queue());
        IdRing ring = q.finished(state);
        if (ring.isEmpty()) {
            retention.add(dueMillis, 0, new Retained(q, state));
        }
        ring.add(job.id(), dueMillis);
    }

    /** Takes a leased job from its holder; the lease token stays on the record for fencing. */
    private void release(Job job) {
        Session holder = sessions.get(job.workerId);
        if (holder != null) {
            holder.held.remove(job);
        }
        job.workerId = "";
        readyChanged = true; // the holder has a free slot again
    }

    private void makeReady(Job job, long now) {
        setState(job, JobState.READY);
        job.runAtMillis = now;
        job.order = nextOrder++;
        queue(job.queue()).pushReady(job);
        readyChanged = true;
    }

    private void schedule(Job job, long runAtMillis) {
        setState(job, JobState.SCHEDULED);
        job.runAtMillis = runAtMillis;
        delayed.add(runAtMillis, job.slot, job);
    }

    /** Every state change goes through here: counts stay exact and old index entries go stale. */
    private void setState(Job job, JobState to) {
        queue(job.queue()).counted(job.state, to);
        job.state = to;
        job.slot = nextSlot++;
        if (to == JobState.LEASED || to == JobState.SCHEDULED) {
            active.put(job.id(), job);
        } else {
            active.remove(job.id());
        }
    }

    /** An active job, or else the archive's record of it; null if there is no such job. */
    private Job find(String id) {
        Job job = active.get(id);
        return job != null ? job : archive.find(id);
    }

    /** The job a ready entry stands for, if it is still READY with that order (else the entry is stale). */
    private Job readyJob(String id, long order, IdRing next) {
        Job job = archive.findReady(id, next::headIds);
        return job != null && job.state == JobState.READY && job.order == order ? job : null;
    }

    private void storeHold(UniqueHold hold) {
        holds.put(holdKey(hold.queue(), hold.key()), hold);
        if (hold.untilMillis() != UniqueHold.WHILE_ACTIVE) {
            holdExpiry.add(hold.untilMillis(), 0, hold);
        }
        effects.uniqueStored(hold);
    }

    private void serveWaiters(long now) {
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
            Waiter w = it.next();
            List<Outcome.LeasedJob> taken = take(w.session, w.queues, w.maxJobs, now);
            if (!taken.isEmpty()) {
                it.remove();
                effects.answer(w.ticket, new Outcome.Leased(taken));
            }
        }
    }

    private void answerWaitersOf(Session s, Outcome outcome) {
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
            Waiter w = it.next();
            if (w.session == s) {
                it.remove();
                effects.answer(w.ticket, outcome);
            }
        }
    }

    private Session touch(String workerId, long now) {
        Session s = sessions.get(workerId);
        if (s != null) {
            s.lastSeenMillis = now;
        }
        return s;
    }

    private static boolean holdsToken(Job job, String token) {
        return !token.isEmpty() && token.equals(job.leaseToken);
    }

    private QueueState queue(String name) {
        return queues.computeIfAbsent(name, QueueState::new);
    }

    private static String holdKey(String queue, String key) {
        return queue + '\u0000' + key;
    }

    private static Outcome.Rejected jobNotFound(String id) {
        return new Outcome.Rejected(Outcome.Reason.JOB_NOT_FOUND, "job " + id + " not found");
    }

    private static Outcome.Rejected queueNotFound(String name) {
        return new Outcome.Rejected(Outcome.Reason.QUEUE_NOT_FOUND, "queue " + name + " not found");
    }

    private static Outcome.Rejected workerNotFound(String id) {
        return new Outcome.Rejected(Outcome.Reason.WORKER_NOT_FOUND,
                "worker session " + id + " not found (unknown or expired): register again");
    }

    // ------------------------------------------------------------------ reads for tests and adapters

    /** The number of jobs in a queue in a state (retained finished jobs included). */
    public long count(String queue, JobState state) {
        QueueState q = queues.get(queue);
        return q == null ? 0 : q.count(state);
    }

    /** Every job the broker holds, in any state (retained finished jobs included). */
    public long jobCount() {
        long n = 0;
        for (QueueState q : queues.values()) {
            for (JobState state : JobState.values()) {
                n += q.count(state);
            }
        }
        return n;
    }

    public int sessionCount() {
        return sessions.size();
    }

    public int parkedLeases() {
        return waiters.size();
    }

    /**
     * The ready order the next job to become READY will get: every READY record with a lower
     * {@link Job#order()} was written in a round applied before now.
     */
    public long nextReadyOrder() {
        return nextOrder;
    }
}
