package io.hoist.broker.runtime;

import io.hoist.broker.engine.DeadReason;
import io.hoist.broker.engine.Job;
import io.hoist.broker.engine.JobSpec;
import io.hoist.broker.engine.JobState;
import io.hoist.broker.engine.RetryPolicy;
import io.hoist.broker.store.ChangeSet;
import io.hoist.broker.store.StoreException;
import io.hoist.broker.store.rocksdb.RocksStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * READY jobs that a round wrote stay in memory within the budget, so that leasing them reads no
 * record; whatever the archive answers from memory must be what the store holds.
 */
class StoredJobsTest {
    private static final RetryPolicy RETRY = new RetryPolicy(5, 1_000, 60_000, 2.0, 0.2);
    private static final int PAYLOAD_BYTES = 100;

    @TempDir
    Path dir;
    private RocksStore store;
    private final ChangeSet round = new ChangeSet();

    @BeforeEach
    void open() {
        store = RocksStore.open(dir);
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void aReadyJobWritten_isAnsweredFromMemory_withoutReadingTheStore() {
        StoredJobs archive = new StoredJobs(store, round, 1 << 20);
        Job job = job("j1", JobState.READY);
        round.createJob(job);
        commit(archive, 1);

        store.close(); // a read of the store would now fail
        assertThat(archive.find("j1")).isSameAs(job);
        assertThatThrownBy(() -> archive.find("never-written")).isInstanceOf(StoreException.class);
    }

    @Test
    void jobsPastTheBudget_areReadFromTheStore() {
        long oneJob = StoredJobs.sizeOf(job("x", JobState.READY));
        StoredJobs archive = new StoredJobs(store, round, 2 * oneJob);
        List<Job> jobs = List.of(job("j1", JobState.READY), job("j2", JobState.READY), job("j3", JobState.READY));
        jobs.forEach(round::createJob);
        commit(archive, 3);

        assertThat(archive.keptReady()).isEqualTo(2);
        assertThat(archive.find("j1")).isSameAs(jobs.get(0));
        assertThat(archive.find("j2")).isSameAs(jobs.get(1));
        Job third = archive.find("j3");
        assertThat(third).isNotSameAs(jobs.get(2));
        assertThat(third.snapshot()).isEqualTo(jobs.get(2).snapshot());
    }

    @Test
    void aQueueWithAnOlderReadyJobLeftOut_keepsNoneOfItsNewerOnes_untilItIsDrained() {
        long oneJob = StoredJobs.sizeOf(job("x", JobState.READY));
        StoredJobs archive = new StoredJobs(store, round, 2 * oneJob);
        round.createJob(job("j1", JobState.READY));
        round.createJob(job("j2", JobState.READY));
        round.createJob(job("j3", JobState.READY)); // left out: no room
        commit(archive, 3);

        round.putJob(job("j1", JobState.LEASED)); // room again, but j3 is older than j4
        round.createJob(job("j4", JobState.READY));
        commit(archive, 3);
        assertThat(archive.keptReady()).isEqualTo(1);

        round.putJob(job("j2", JobState.LEASED));
        round.putJob(job("j3", JobState.LEASED)); // the queue's READY jobs are j4 and j5 now
        Job j5 = job("j5", JobState.READY);
        round.createJob(j5);
        commit(archive, 2);
        assertThat(archive.keptReady()).isZero();
        assertThat(archive.find("j5")).isNotSameAs(j5); // j4 is still left out

        round.putJob(job("j4", JobState.LEASED));
        Job j6 = job("j6", JobState.READY);
        round.createJob(j6);
        commit(archive, 2);
        assertThat(archive.find("j6")).isNotSameAs(j6); // j5, older, is still out

        round.putJob(job("j5", JobState.LEASED));
        round.putJob(job("j6", JobState.LEASED));
        Job j7 = job("j7", JobState.READY);
        round.createJob(j7);
        commit(archive, 1);
        assertThat(archive.find("j7")).isSameAs(j7); // drained: kept again
    }

    @Test
    void aJobWrittenInAnotherStateOrDeleted_leavesMemory_andFreesItsRoom() {
        long oneJob = StoredJobs.sizeOf(job("x", JobState.READY));
        StoredJobs archive = new StoredJobs(store, round, oneJob);
        Job job = job("j1", JobState.READY);
        round.createJob(job);
        commit(archive, 1);

        Job leased = job("j1", JobState.LEASED);
        round.putJob(leased);
        commit(archive, 0);
        assertThat(archive.keptReady()).isZero();
        assertThat(archive.find("j1").state()).isEqualTo(JobState.LEASED);

        Job other = job("j2", JobState.READY);
        round.createJob(other);
        round.deleteJob("j1");
        commit(archive, 1);
        assertThat(archive.find("j2")).isSameAs(other); // j1's room was freed for it
        assertThat(archive.find("j1")).isNull();
    }

    @Test
    void aLeaseReadingTheStore_readsTheJobsFollowingItInTheSamePass_untilARoundWritesThem() {
        StoredJobs archive = new StoredJobs(store, round, 0); // nothing kept: a backlog beyond the budget
        List.of("j1", "j2", "j3", "j4", "j5").forEach(id -> round.createJob(job(id, JobState.READY)));
        commit(archive, 5);

        Job first = archive.findReady("j1", n -> List.of("j2", "j3", "j4").subList(0, Math.min(n, 3)));
        assertThat(first.snapshot()).isEqualTo(job("j1", JobState.READY).snapshot());
        round.putJob(job("j2", JobState.LEASED));
        commit(archive, 3);

        assertThat(archive.find("j2").state()).isEqualTo(JobState.LEASED); // written since: read again
        store.close(); // a read of the store would now fail
        assertThat(archive.find("j3").snapshot()).isEqualTo(job("j3", JobState.READY).snapshot());
        assertThat(archive.findReady("j4", n -> List.of("j5")).state()).isEqualTo(JobState.READY);
        assertThatThrownBy(() -> archive.find("j5")).isInstanceOf(StoreException.class);
    }

    @Test
    void theRoundsChanges_comeBeforeMemory() {
        StoredJobs archive = new StoredJobs(store, round, 1 << 20);
        round.createJob(job("j1", JobState.READY));
        commit(archive, 1);

        round.deleteJob("j1");
        assertThat(archive.find("j1")).isNull();
        Job leased = job("j1", JobState.LEASED);
        round.putJob(leased);
        assertThat(archive.find("j1")).isSameAs(leased);
    }

    @Test
    void aFailedWrite_keepsNothingOfTheRound() {
        StoredJobs archive = new StoredJobs(store, round, 1 << 20);
        round.createJob(job("j1", JobState.READY));
        store.close();

        assertThatThrownBy(() -> archive.commit(true, q -> 1)).isInstanceOf(StoreException.class);
        round.clear();
        assertThat(archive.keptReady()).isZero();
    }

    /** Commits the round, its queue holding {@code readyDepth} READY jobs after it. */
    private void commit(StoredJobs archive, long readyDepth) {
        archive.commit(true, queue -> readyDepth);
        round.clear();
    }

    private static Job job(String id, JobState state) {
        Job.Snapshot life = new Job.Snapshot(state, state == JobState.READY ? 0 : 1, 1_000, 0, "", "", false,
                List.of(), DeadReason.NONE, state == JobState.LEASED ? "t1" : "", 0, 0, 7);
        JobSpec spec = new JobSpec("q", "t", new byte[PAYLOAD_BYTES], Map.of("trace", "abc"), 0, null, null, null,
                null, null, "", 0, "");
        return Job.restore(id, spec, 1_000, RETRY, 30_000, 600_000, life);
    }
}
