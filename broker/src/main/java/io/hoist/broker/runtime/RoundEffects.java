package io.hoist.broker.runtime;

import io.hoist.broker.engine.Effects;
import io.hoist.broker.engine.Job;
import io.hoist.broker.engine.JobEvent;
import io.hoist.broker.engine.Notice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.hoist.broker.engine.QueueConfig;
import io.hoist.broker.engine.Outcome;
import io.hoist.broker.engine.Session;
import io.hoist.broker.engine.UniqueHold;
import io.hoist.broker.store.ChangeSet;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Collects what one round of commands did: the writes to commit and the answers to send after.
 * Public for tests that drive an engine on a store the way the loop does.
 */
public final class RoundEffects implements Effects {
    private static final Logger log = LoggerFactory.getLogger("io.hoist.broker.events");
    public record Answer(CompletableFuture<Outcome> caller, Outcome outcome) {
    }

    final ChangeSet changes = new ChangeSet();
    private final EngineObserver observer;

    public RoundEffects(EngineObserver observer) {
        this.observer = observer;
    }

    /** The round's writes so far. */
    public ChangeSet changes() {
        return changes;
    }

    /** Late answers to parked leases so far. */
    public List<Answer> answers() {
        return answers;
    }
    final List<Answer> answers = new ArrayList<>();

    @Override
    public void jobChanged(Job job) {
        changes.putJob(job);
    }

    @Override
    public void jobCreated(Job job) {
        changes.createJob(job);
    }

    @Override
    public void jobDeleted(String jobId) {
        changes.deleteJob(jobId);
    }

    @Override
    public void sessionStored(Session session) {
        changes.putSession(session);
    }

    @Override
    public void sessionDeleted(String workerId) {
        changes.deleteSession(workerId);
    }

    @Override
    public void uniqueStored(UniqueHold hold) {
        changes.putHold(hold);
    }

    @Override
    public void uniqueDeleted(String queue, String key) {
        changes.deleteHold(queue, key);
    }

    @Override
    public void queueStored(String queue, QueueConfig config) {
        changes.putQueue(queue, config);
    }

    @Override
    public void observed(JobEvent event, String queue, long millis) {
        observer.jobEvent(event, queue, millis);
    }

    @Override
    public void noted(Notice notice) {
        if (notice instanceof Notice.WorkerLost n) {
            log.warn("worker lost: no call for the session timeout; worker={} name={} jobs_released={}",
                    n.workerId(), n.name(), n.jobsReleased());
        } else if (notice instanceof Notice.JobDead n) {
            log.info("job dead-lettered queue={} job={} reason={} attempt={} last_error=\"{}\"", n.queue(), n.jobId(),
                    n.reason().name().toLowerCase(java.util.Locale.ROOT), n.attempt(), abbreviate(n.lastError()));
        } else if (notice instanceof Notice.QueueConfigured n) {
            log.info("queue configured queue={} paused={} rate_limit={} max_in_flight={} max_depth={}", n.queue(),
                    n.config().isPaused(), n.config().rate(), n.config().inFlightLimit(), n.config().depthLimit());
        } else if (notice instanceof Notice.JobsRemoved n) {
            log.info("queue {} queue={} jobs={}", n.action(), n.queue(), n.count());
        }
    }

    private static String abbreviate(String s) {
        String line = s.replace('\n', ' ');
        return line.length() > 200 ? line.substring(0, 200) + "…" : line;
    }

    @Override
    public void deliverySeqStored(long deliverySeq) {
        changes.setDeliverySeq(deliverySeq);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void answer(Object ticket, Outcome outcome) {
        answers.add(new Answer((CompletableFuture<Outcome>) ticket, outcome));
    }

    public void clear() {
        changes.clear();
        answers.clear();
    }
}
