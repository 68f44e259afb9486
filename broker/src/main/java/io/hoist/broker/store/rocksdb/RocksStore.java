package io.hoist.broker.store.rocksdb;

import io.hoist.broker.engine.Job;
import io.hoist.broker.engine.QueueConfig;
import io.hoist.broker.engine.Session;
import io.hoist.broker.engine.UniqueHold;
import io.hoist.broker.store.ChangeSet;
import io.hoist.broker.store.Store;
import io.hoist.broker.store.StoreException;
import io.hoist.broker.store.StoredState;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Cache;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Status;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/**
 * The store on RocksDB. Column families and keys (all strings UTF-8, numbers big-endian):
 * <pre>
 *   jobs      job id                      → JobRecord   (every retained job, whole as it was created)
 *   job_lives job id                      → JobRecord with only its life set (state, attempt, lease...),
 *                                           written at every change after the job's creation
 *   sessions  worker id                   → SessionRecord
 *   unique    queue 0x00 unique key       → UniqueRecord
 *   queues    queue name                  → QueueRecord (settings of queues that have any)
 *   meta      "format_version"            → int32 (2; 1 had no job_lives, and opens as 2)
 *             "delivery_seq"              → int64, the last lease token handed out
 *             "alive_at"                  → int64 epoch millis of the last committed round
 * </pre>
 * Ordering lives in the records (a job's ready order), not in the keys: the ready, delayed and
 * lease indexes are in memory, rebuilt by one scan of {@code jobs} at start-up, so leasing never
 * iterates over the tombstones of consumed jobs.
 *
 * <p>Why a job is two records: its spec and payload never change, while its life changes at each
 * lease, ack and nack. Writing the whole record each time wrote a job about three times over
 * (enqueue, lease, ack); now the changes write a record of a few dozen bytes.
 */
public final class RocksStore implements Store {
    public static final int FORMAT_VERSION = 2;
    /**
     * Leases read the records of READY jobs by key, from the oldest on: with a deep backlog they
     * are in SST files, so point reads get a bloom filter (no probe of files without the key) and
     * a block cache of native memory, off the JVM heap.
     */
    private static final long BLOCK_CACHE_BYTES = 64L << 20;
    /**
     * A log file is kept until every column family with writes in it has flushed them; a family
     * written little (job_lives while a backlog fills, meta) held gigabytes of logs that way, which
     * a restart also replays. Past this size RocksDB flushes the families holding the oldest log.
     */
    private static final long MAX_TOTAL_WAL_BYTES = 256L << 20;
    /** How far {@link #readJobs} walks from one id to the next before it seeks instead. */
    private static final int MAX_STEPS = 16;
    /** How many deleted or overwritten records one step of {@link #readJobs} may pass over. */
    private static final long MAX_SKIPPED = 256;
    private static final byte[] FORMAT_KEY = bytes("format_version");
    private static final byte[] DELIVERY_SEQ_KEY = bytes("delivery_seq");
    private static final byte[] ALIVE_AT_KEY = bytes("alive_at");

    private static final Logger log = LoggerFactory.getLogger(RocksStore.class);

    static {
        NativeLibrary.load();
    }

    private final Path dir;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final Cache blockCache = new LRUCache(BLOCK_CACHE_BYTES);
    private final BloomFilter bloomFilter = new BloomFilter(10);
    private final WriteOptions synced = new WriteOptions().setSync(true);
    private final WriteOptions unsynced = new WriteOptions().setSync(false);
    /**
     * Guards the handles below against {@link #reopen()} for the calls other threads make
     * (metrics, checkpoints). The engine thread, which alone reopens, uses them without it.
     */
    private final ReentrantReadWriteLock handlesLock = new ReentrantReadWriteLock();
    private final List<ColumnFamilyHandle> handles = new ArrayList<>();
    /** Null after a reopen that could not open the DB again, until one that can. */
    private RocksDB db;
    private ColumnFamilyHandle jobs;
    private ColumnFamilyHandle jobLives;
    private ColumnFamilyHandle sessions;
    private ColumnFamilyHandle unique;
    private ColumnFamilyHandle meta;
    private ColumnFamilyHandle queues;

    private RocksStore(Path dir) throws RocksDBException {
        this.dir = dir;
        this.dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                .setMaxTotalWalSize(MAX_TOTAL_WAL_BYTES);
        this.cfOptions = new ColumnFamilyOptions().setTableFormatConfig(new BlockBasedTableConfig()
                .setFilterPolicy(bloomFilter)
                .setBlockCache(blockCache));
        openDb();
    }

    private void openDb() throws RocksDBException {
        List<ColumnFamilyDescriptor> descriptors = List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
                new ColumnFamilyDescriptor(bytes("jobs"), cfOptions),
                new ColumnFamilyDescriptor(bytes("sessions"), cfOptions),
                new ColumnFamilyDescriptor(bytes("unique"), cfOptions),
                new ColumnFamilyDescriptor(bytes("meta"), cfOptions),
                new ColumnFamilyDescriptor(bytes("queues"), cfOptions),
                new ColumnFamilyDescriptor(bytes("job_lives"), cfOptions));
        List<ColumnFamilyHandle> opened = new ArrayList<>();
        this.db = RocksDB.open(dbOptions, dir.toString(), descriptors, opened);
        this.handles.addAll(opened);
        this.jobs = opened.get(1);
        this.sessions = opened.get(2);
        this.unique = opened.get(3);
        this.meta = opened.get(4);
        this.queues = opened.get(5);
        this.jobLives = opened.get(6);
    }

    /** Closes the DB; a close that reports the error that stopped it still frees it. */
    private void closeDb() {
        if (db == null) {
            return;
        }
        for (ColumnFamilyHandle h : handles) {
            h.close();
        }
        handles.clear();
        try {
            db.closeE();
        } catch (RocksDBException e) {
            log.info("closing the store reported: {}", e.getMessage());
        }
        db = null;
    }

    /**
     * After a write failed for lack of space RocksDB refuses every later write, and its own
     * recovery does not clear the failed log file (rocksdbjni has no {@code DB::Resume} either),
     * so closing and opening the DB is what brings writes back. The open replays the log: every
     * committed write is still there, and a batch whose write failed is there whole or not at all.
     */
    @Override
    public void reopen() {
        handlesLock.writeLock().lock();
        try {
            closeDb();
            openDb();
        } catch (RocksDBException e) {
            throw new StoreException("cannot open the store in " + dir + " again: " + e.getMessage(), e, isNoSpace(e));
        } finally {
            handlesLock.writeLock().unlock();
        }
    }

    private RocksDB openDbOrFail() {
        if (db == null) {
            throw new StoreException("the store in " + dir + " is closed until it can be opened again (disk full?)",
                    null, true);
        }
        return db;
    }

    /** Opens (creating if needed) the store in {@code dir}. */
    public static RocksStore open(Path dir) {
        try {
            Files.createDirectories(dir);
            RocksStore store = new RocksStore(dir);
            store.checkFormat();
            return store;
        } catch (RocksDBException e) {
            throw new StoreException("cannot open the store in " + dir + ": " + e.getMessage()
                    + (e.getMessage() != null && e.getMessage().contains("lock") ? " (is another broker using this data dir?)" : ""),
                    e, isNoSpace(e));
        } catch (java.io.IOException e) {
            throw new StoreException("cannot create the data dir " + dir + ": " + e.getMessage(), e, false);
        }
    }

    private void checkFormat() throws RocksDBException {
        byte[] stored = db.get(meta, FORMAT_KEY);
        if (stored == null) {
            db.put(meta, synced, FORMAT_KEY, ByteBuffer.allocate(4).putInt(FORMAT_VERSION).array());
            return;
        }
        int version = ByteBuffer.wrap(stored).getInt();
        if (version == 1) {
            // format 1 is format 2 without life records: the open created their (empty) column family
            db.put(meta, synced, FORMAT_KEY, ByteBuffer.allocate(4).putInt(FORMAT_VERSION).array());
            log.info("store format 1 in {} upgraded to {} (job life records)", dir, FORMAT_VERSION);
            return;
        }
        if (version != FORMAT_VERSION) {
            close();
            throw new StoreException("the data dir " + dir + " has store format " + version
                    + ", this broker reads format " + FORMAT_VERSION + ": use a matching broker version", null, false);
        }
    }

    @Override
    public StoredState load() {
        RocksDB db = openDbOrFail();
        try {
            Map<String, QueueConfig> loadedQueues = new LinkedHashMap<>();
            try (RocksIterator it = db.newIterator(queues)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    loadedQueues.put(new String(it.key(), StandardCharsets.UTF_8), RecordCodec.decodeQueue(it.value()));
                }
                it.status();
            }
            List<Session> loadedSessions = new ArrayList<>();
            try (RocksIterator it = db.newIterator(sessions)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    loadedSessions.add(RecordCodec.decodeSession(it.value()));
                }
                it.status();
            }
            List<UniqueHold> loadedHolds = new ArrayList<>();
            try (RocksIterator it = db.newIterator(unique)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    loadedHolds.add(RecordCodec.decodeHold(it.value()));
                }
                it.status();
            }
            return new StoredState(loadedQueues, loadedSessions, loadedHolds,
                    readLong(DELIVERY_SEQ_KEY), readLong(ALIVE_AT_KEY));
        } catch (RocksDBException e) {
            throw new StoreException("cannot read the store in " + dir + ": " + e.getMessage(), e, false);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new StoreException("a record in " + dir + " is corrupt: " + e.getMessage(), e, false);
        }
    }

    @Override
    public Job readJob(String id) {
        RocksDB db = openDbOrFail();
        try {
            byte[] key = bytes(id);
            byte[] created = db.get(jobs, key);
            return created == null ? null : RecordCodec.decodeJob(created, db.get(jobLives, key), RecordCodec.Shared.NONE);
        } catch (RocksDBException e) {
            throw new StoreException("cannot read job " + id + " from the store in " + dir + ": " + e.getMessage(), e, false);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new StoreException("the record of job " + id + " in " + dir + " is corrupt: " + e.getMessage(), e, false);
        }
    }

    /**
     * Walks each column family once, from the first id's key to the last, instead of reading every
     * id by key: ids are time-ordered, so a queue's backlog lies side by side, and a step to the
     * next record costs a fraction of a point read (memtable search, bloom filter probes, an index
     * seek per file). Tombstones are where a walk can go wrong (a queue's consumed jobs leave a
     * run of them), so the walk stays between the first and last key, and a column family whose
     * walk meets too many of them in one step is read by key instead.
     */
    @Override
    public void readJobs(Collection<String> ids, Consumer<Job> action) {
        if (ids.size() <= 2) { // two point reads are cheaper than opening two iterators
            for (String id : ids) {
                Job job = readJob(id);
                if (job != null) {
                    action.accept(job);
                }
            }
            return;
        }
        RocksDB db = openDbOrFail();
        byte[][] keys = ids.stream().map(RocksStore::bytes).sorted(Arrays::compareUnsigned).toArray(byte[][]::new);
        byte[] pastLast = Arrays.copyOf(keys[keys.length - 1], keys[keys.length - 1].length + 1);
        try (Slice upperBound = new Slice(pastLast);
             ReadOptions options = new ReadOptions().setIterateUpperBound(upperBound)
                     .setMaxSkippableInternalKeys(MAX_SKIPPED);
             Walk created = new Walk(db, jobs, options);
             Walk lives = new Walk(db, jobLives, options)) {
            for (int i = 0; i < keys.length; i++) {
                if (i > 0 && Arrays.equals(keys[i], keys[i - 1])) {
                    continue;
                }
                byte[] record = created.valueAt(keys[i]);
                byte[] life = lives.valueAt(keys[i]); // both walks move on, found or not
                if (record != null) {
                    action.accept(RecordCodec.decodeJob(record, life, RecordCodec.Shared.NONE));
                }
            }
        } catch (RocksDBException e) {
            throw new StoreException("cannot read jobs from the store in " + dir + ": " + e.getMessage(), e, false);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new StoreException("a job record in " + dir + " is corrupt: " + e.getMessage(), e, false);
        }
    }

    /** One column family read in ascending key order by an iterator, or by key once that gave up. */
    private static final class Walk implements AutoCloseable {
        private final RocksDB db;
        private final ColumnFamilyHandle family;
        private final RocksIterator it;
        private boolean started;
        private boolean gaveUp;
        /** The key the iterator is on (null past the last), kept rather than asked for again: each call crosses JNI. */
        private byte[] current;

        Walk(RocksDB db, ColumnFamilyHandle family, ReadOptions options) {
            this.db = db;
            this.family = family;
            this.it = db.newIterator(family, options);
        }

        /** The value at {@code key} (which must be above every key asked before), or null. */
        byte[] valueAt(byte[] key) throws RocksDBException {
            if (gaveUp) {
                return db.get(family, key);
            }
            if (!started) {
                started = true;
                seek(key);
            }
            for (int steps = 0; current != null && Arrays.compareUnsigned(current, key) < 0; steps++) {
                if (steps == MAX_STEPS) { // far apart: other queues' jobs lie between
                    seek(key);
                    break;
                }
                it.next();
                current = it.isValid() ? it.key() : null;
            }
            if (current != null) {
                return Arrays.equals(current, key) ? it.value() : null;
            }
            try {
                it.status();
                return null; // past the last key: nothing further to find
            } catch (RocksDBException e) {
                if (e.getStatus() == null || e.getStatus().getCode() != Status.Code.Incomplete) {
                    throw e;
                }
                gaveUp = true; // more than MAX_SKIPPED tombstones in one step
                return db.get(family, key);
            }
        }

        private void seek(byte[] key) {
            it.seek(key);
            current = it.isValid() ? it.key() : null;
        }

        @Override
        public void close() {
            it.close();
        }
    }

    /** Decodes with equal queue names, types and retry policies shared, for the jobs kept in memory. */
    @Override
    public void forEachJob(Consumer<Job> action) {
        RocksDB db = openDbOrFail();
        Map<Object, Object> instances = new java.util.HashMap<>();
        RecordCodec.Shared shared = new RecordCodec.Shared() {
            @Override
            @SuppressWarnings("unchecked")
            public <T> T of(T value) {
                return (T) instances.computeIfAbsent(value, v -> v);
            }
        };
        // both column families in key order: each job's life record, if any, is met beside it
        try (ReadOptions options = new ReadOptions().setFillCache(false);
             RocksIterator it = db.newIterator(jobs, options);
             RocksIterator lives = db.newIterator(jobLives, options)) {
            lives.seekToFirst();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] key = it.key();
                while (lives.isValid() && Arrays.compareUnsigned(lives.key(), key) < 0) {
                    lives.next(); // a life without its job: nothing writes one
                }
                byte[] life = lives.isValid() && Arrays.equals(lives.key(), key) ? lives.value() : null;
                action.accept(RecordCodec.decodeJob(it.value(), life, shared));
            }
            it.status();
            lives.status();
        } catch (RocksDBException e) {
            throw new StoreException("cannot read the jobs in " + dir + ": " + e.getMessage(), e, false);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new StoreException("a job record in " + dir + " is corrupt: " + e.getMessage(), e, false);
        }
    }

    private long readLong(byte[] key) throws RocksDBException {
        byte[] v = db.get(meta, key);
        return v == null ? 0 : ByteBuffer.wrap(v).getLong();
    }

    @Override
    public void commit(ChangeSet changes, boolean sync) {
        RocksDB db = openDbOrFail();
        try (WriteBatch batch = new WriteBatch()) {
            for (Map.Entry<String, Job> e : changes.jobs().entrySet()) {
                byte[] key = bytes(e.getKey());
                if (e.getValue() == null) {
                    batch.delete(jobs, key);
                    batch.delete(jobLives, key);
                } else if (changes.isCreated(e.getKey())) {
                    batch.put(jobs, key, RecordCodec.encodeJob(e.getValue()));
                    if (changes.isRecreated(e.getKey())) {
                        batch.delete(jobLives, key); // the life of the job deleted before, under the same id
                    }
                } else {
                    batch.put(jobLives, key, RecordCodec.encodeJobLife(e.getValue()));
                }
            }
            for (Map.Entry<String, Session> e : changes.sessions().entrySet()) {
                byte[] key = bytes(e.getKey());
                if (e.getValue() == null) {
                    batch.delete(sessions, key);
                } else {
                    batch.put(sessions, key, RecordCodec.encodeSession(e.getValue()));
                }
            }
            for (Map.Entry<ChangeSet.UniqueKey, UniqueHold> e : changes.holds().entrySet()) {
                byte[] key = uniqueKey(e.getKey().queue(), e.getKey().key());
                if (e.getValue() == null) {
                    batch.delete(unique, key);
                } else {
                    batch.put(unique, key, RecordCodec.encodeHold(e.getValue()));
                }
            }
            for (Map.Entry<String, QueueConfig> e : changes.queues().entrySet()) {
                batch.put(queues, bytes(e.getKey()), RecordCodec.encodeQueue(e.getValue()));
            }
            if (changes.deliverySeq() >= 0) {
                batch.put(meta, DELIVERY_SEQ_KEY, longBytes(changes.deliverySeq()));
            }
            if (changes.aliveMillis() >= 0) {
                batch.put(meta, ALIVE_AT_KEY, longBytes(changes.aliveMillis()));
            }
            db.write(sync ? synced : unsynced, batch);
        } catch (RocksDBException e) {
            throw new StoreException("write to the store failed: " + e.getMessage(), e, isNoSpace(e));
        }
    }

    @Override
    public long sizeBytes() {
        long total = 0;
        handlesLock.readLock().lock();
        try {
            if (db == null) {
                return -1;
            }
            for (ColumnFamilyHandle h : handles) {
                total += db.getLongProperty(h, "rocksdb.total-sst-files-size");
                total += db.getLongProperty(h, "rocksdb.cur-size-all-mem-tables");
            }
        } catch (RocksDBException e) {
            return -1;
        } finally {
            handlesLock.readLock().unlock();
        }
        return total;
    }

    @Override
    public long figure(String name) {
        String property = switch (name) {
            case "memtable_bytes" -> "rocksdb.cur-size-all-mem-tables";
            case "pending_compaction_bytes" -> "rocksdb.estimate-pending-compaction-bytes";
            case "estimated_keys" -> "rocksdb.estimate-num-keys";
            default -> throw new IllegalArgumentException("unknown store figure " + name);
        };
        long total = 0;
        handlesLock.readLock().lock();
        try {
            if (db == null) {
                return -1;
            }
            for (ColumnFamilyHandle h : handles) {
                total += db.getLongProperty(h, property);
            }
        } catch (RocksDBException e) {
            return -1;
        } finally {
            handlesLock.readLock().unlock();
        }
        return total;
    }

    @Override
    public long checkpoint(Path target) {
        handlesLock.readLock().lock();
        try (Checkpoint checkpoint = Checkpoint.create(openDbOrFail())) {
            checkpoint.createCheckpoint(target.toString());
            try (var files = Files.walk(target)) {
                return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
            }
        } catch (RocksDBException e) {
            throw new StoreException("checkpoint to " + target + " failed: " + e.getMessage(), e, isNoSpace(e));
        } catch (java.io.IOException e) {
            throw new StoreException("checkpoint to " + target + " written, but cannot be measured: " + e.getMessage(), e, false);
        } finally {
            handlesLock.readLock().unlock();
        }
    }

    @Override
    public void sync() {
        RocksDB db = openDbOrFail();
        try {
            db.flushWal(true);
        } catch (RocksDBException e) {
            throw new StoreException("sync of the store failed: " + e.getMessage(), e, isNoSpace(e));
        }
    }

    @Override
    public void close() {
        handlesLock.writeLock().lock();
        try {
            closeDb();
        } finally {
            handlesLock.writeLock().unlock();
        }
        synced.close();
        unsynced.close();
        dbOptions.close();
        cfOptions.close();
        bloomFilter.close();
        blockCache.close();
    }

    /**
     * ENOSPC (IOError/NoSpace), or RocksDB's own space limit, whose sub-code rocksdbjni does
     * not name, so its message is matched.
     */
    static boolean isNoSpace(RocksDBException e) {
        Status s = e.getStatus();
        String message = e.getMessage() == null ? "" : e.getMessage();
        return (s != null && s.getSubCode() == Status.SubCode.NoSpace)
                || message.contains("No space left") || message.contains("Max allowed space was reached");
    }

    private static byte[] uniqueKey(String queue, String key) {
        byte[] q = bytes(queue);
        byte[] k = bytes(key);
        return ByteBuffer.allocate(q.length + 1 + k.length).put(q).put((byte) 0).put(k).array();
    }

    private static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
