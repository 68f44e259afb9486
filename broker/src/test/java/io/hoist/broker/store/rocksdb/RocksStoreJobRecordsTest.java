package io.hoist.broker.store.rocksdb;

import io.hoist.broker.engine.DeadReason;
import io.hoist.broker.engine.Job;
import io.hoist.broker.engine.JobError;
import io.hoist.broker.engine.JobSpec;
import io.hoist.broker.engine.JobState;
import io.hoist.broker.engine.RetryPolicy;
import io.hoist.broker.store.ChangeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A job is stored as the record written at its creation plus, once it has changed, a record of its
 * life alone: reads, the start-up scan and deletes must see the two as one job, and a data dir of
 * the format before life records must still open with its jobs.
 */
class RocksStoreJobRecordsTest {
    private static final RetryPolicy RETRY = new RetryPolicy(5, 1_000, 60_000, 2.0, 0.2);
    private static final Job.Snapshot LEASED = new Job.Snapshot(JobState.LEASED, 1, 0, 0, "", "w1", false,
            List.of(new JobError(1, "boom", 5_000)), DeadReason.NONE, "t-42", 40_000, 900_000, 7);

    @TempDir
    Path dir;

    @Test
    void aJobChangedAfterItsCreation_readsAsItsCreatedSpecWithItsLatestLife() {
        Job created = job("j1", "first", ready(7));
        Job leased = job("j1", "changed-after-creation", LEASED);
        try (RocksStore store = RocksStore.open(dir)) {
            commit(store, c -> c.createJob(created));
            commit(store, c -> c.putJob(leased));

            assertReadsAsLeased(store.readJob("j1"));
            assertReadsAsLeased(single(store));
        }
        try (RocksStore reopened = RocksStore.open(dir)) {
            assertReadsAsLeased(reopened.readJob("j1"));
            assertReadsAsLeased(single(reopened));
        }
    }

    /** The payload is the created one (a change writes the life only); everything else the latest. */
    private static void assertReadsAsLeased(Job read) {
        assertThat(payload(read)).isEqualTo("first");
        assertThat(read.snapshot()).isEqualTo(LEASED);
        assertThat(read.retry()).isEqualTo(RETRY);
        assertThat(read.createdAtMillis()).isEqualTo(1_000);
    }

    @Test
    void aJobDeletedAndCreatedAgainInOneRound_hasNothingOfTheOldJob() {
        try (RocksStore store = RocksStore.open(dir)) {
            commit(store, c -> c.createJob(job("j1", "old", ready(1))));
            commit(store, c -> c.putJob(job("j1", "old", new Job.Snapshot(JobState.DEAD, 3, 0, 9_000, "gone", "", false,
                    List.of(), DeadReason.ATTEMPTS_EXHAUSTED, "t-1", 0, 0, 1))));
            commit(store, c -> {
                c.deleteJob("j1");
                c.createJob(job("j1", "new", ready(2)));
            });

            Job read = store.readJob("j1");
            assertThat(payload(read)).isEqualTo("new");
            assertThat(read.snapshot()).isEqualTo(ready(2));
            assertThat(single(store).snapshot()).isEqualTo(ready(2));
        }
    }

    @Test
    void aDeletedJob_leavesNoRecordBehind_andItsIdStartsAfresh() {
        try (RocksStore store = RocksStore.open(dir)) {
            commit(store, c -> c.createJob(job("j1", "a", ready(1))));
            commit(store, c -> c.putJob(job("j1", "a", new Job.Snapshot(JobState.SUCCEEDED, 1, 0, 9_000, "", "", false,
                    List.of(), DeadReason.NONE, "t-1", 0, 0, 1))));
            commit(store, c -> c.deleteJob("j1"));

            assertThat(store.readJob("j1")).isNull();
            assertThat(all(store)).isEmpty();

            commit(store, c -> c.createJob(job("j1", "b", ready(5))));
            assertThat(store.readJob("j1").snapshot()).isEqualTo(ready(5));
        }
    }

    @Test
    void aDataDirOfFormat1_opensWithItsJobs_andAcceptsLifeRecords() throws Exception {
        writeFormat1Dir(job("old-1", "kept", ready(3)));

        try (RocksStore store = RocksStore.open(dir)) {
            assertThat(single(store).snapshot()).isEqualTo(ready(3));
            commit(store, c -> c.putJob(job("old-1", "kept", new Job.Snapshot(JobState.LEASED, 1, 0, 0, "", "w", false,
                    List.of(), DeadReason.NONE, "t-9", 50_000, 60_000, 3))));
        }
        try (RocksStore reopened = RocksStore.open(dir)) {
            Job read = reopened.readJob("old-1");
            assertThat(read.state()).isEqualTo(JobState.LEASED);
            assertThat(read.leaseToken()).isEqualTo("t-9");
            assertThat(payload(read)).isEqualTo("kept");
        }
    }

    @Test
    void readJobs_findsWhatReadJobFinds_forIdsInAnyOrder_nearOrFarApart_inFilesOrInMemory() {
        try (RocksStore store = RocksStore.open(dir)) {
            commit(store, c -> IntStream.range(0, 100).forEach(i -> c.createJob(job(id(i), "p" + i, ready(i)))));
        }
        try (RocksStore store = RocksStore.open(dir)) { // reopened: the first 100 are in a file now
            commit(store, c -> IntStream.range(100, 120).forEach(i -> c.createJob(job(id(i), "p" + i, ready(i)))));
            commit(store, c -> c.putJob(job(id(3), "p3", LEASED)));
            commit(store, c -> c.putJob(job(id(105), "p105", LEASED)));
            commit(store, c -> c.deleteJob(id(4)));

            List<String> asked = List.of(id(105), id(0), id(3), id(4), id(5), id(3), id(60), "a-before-all", id(61),
                    id(50) + "x", id(119), "z-after-all");
            List<Job> read = new ArrayList<>();
            store.readJobs(asked, read::add);

            assertThat(read).extracting(Job::id).containsExactly(id(0), id(3), id(5), id(60), id(61), id(105), id(119));
            for (Job job : read) {
                Job alone = store.readJob(job.id());
                assertThat(job.snapshot()).isEqualTo(alone.snapshot());
                assertThat(payload(job)).isEqualTo(payload(alone));
            }
            assertThat(read.get(1).snapshot()).isEqualTo(LEASED);
            assertThat(read.get(5).snapshot()).isEqualTo(LEASED);
        }
    }

    @Test
    void readJobs_findsTheJobsBeyondARunOfDeletedOnes() {
        try (RocksStore store = RocksStore.open(dir)) {
            commit(store, c -> IntStream.range(0, 1000).forEach(i -> c.createJob(job(id(i), "p" + i, ready(i)))));
            commit(store, c -> IntStream.range(100, 900).forEach(i -> c.deleteJob(id(i)))); // a drained stretch

            List<Job> read = new ArrayList<>();
            store.readJobs(List.of(id(50), id(51), id(500), id(950), id(999)), read::add);

            assertThat(read).extracting(Job::id).containsExactly(id(50), id(51), id(950), id(999));
            assertThat(payload(read.get(2))).isEqualTo("p950");
        }
    }

    private static String id(int i) {
        return String.format("j%03d", i);
    }

    /** What a broker of store format 1 left: six column families, whole job records, format 1. */
    private void writeFormat1Dir(Job job) throws Exception {
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY));
        for (String name : List.of("jobs", "sessions", "unique", "meta", "queues")) {
            descriptors.add(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.UTF_8)));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (DBOptions options = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
             RocksDB db = RocksDB.open(options, dir.toString(), descriptors, handles)) {
            db.put(handles.get(1), job.id().getBytes(StandardCharsets.UTF_8), RecordCodec.encodeJob(job));
            db.put(handles.get(4), "format_version".getBytes(StandardCharsets.UTF_8), ByteBuffer.allocate(4).putInt(1).array());
            handles.forEach(ColumnFamilyHandle::close);
        }
    }

    private static void commit(RocksStore store, java.util.function.Consumer<ChangeSet> changes) {
        ChangeSet c = new ChangeSet();
        changes.accept(c);
        store.commit(c, true);
    }

    private static Job single(RocksStore store) {
        List<Job> jobs = all(store);
        assertThat(jobs).hasSize(1);
        return jobs.get(0);
    }

    private static List<Job> all(RocksStore store) {
        List<Job> jobs = new ArrayList<>();
        store.forEachJob(jobs::add);
        return jobs;
    }

    private static String payload(Job job) {
        return new String(job.spec().payload(), StandardCharsets.UTF_8);
    }

    private static Job.Snapshot ready(long order) {
        return new Job.Snapshot(JobState.READY, 0, 1_000, 0, "", "", false, List.of(), DeadReason.NONE, "", 0, 0, order);
    }

    private static Job job(String id, String payload, Job.Snapshot life) {
        return Job.restore(id, spec(payload), 1_000, RETRY, 30_000, 600_000, life);
    }

    private static JobSpec spec(String payload) {
        return new JobSpec("q", "t", payload.getBytes(StandardCharsets.UTF_8), Map.of("h", "v"), 3, null, null, null,
                null, null, "", 0, "");
    }
}
