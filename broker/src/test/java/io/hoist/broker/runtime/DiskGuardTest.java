package io.hoist.broker.runtime;

import io.hoist.broker.engine.Command;
import io.hoist.broker.store.ChangeSet;
import io.hoist.broker.store.DiskFullException;
import io.hoist.broker.store.DiskSpace;
import io.hoist.broker.store.Store;
import io.hoist.broker.store.StoreException;
import io.hoist.broker.store.StoredState;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class DiskGuardTest {
    private static final long MIB = 1 << 20;
    private static final StoreException NO_SPACE = new StoreException("No space left on device", null, true);

    private final AtomicLong free = new AtomicLong(1024 * MIB);
    private final MutableClock clock = new MutableClock();
    private final ReopenableStore store = new ReopenableStore();
    private final DiskGuard guard = new DiskGuard(new DiskSpace(Path.of("/data"), 64 * MIB, free::get, clock), store);
    private final AtomicInteger reloads = new AtomicInteger();

    private static final Command ENQUEUE = new Command.Enqueue(List.of(), List.of());
    private static final Command ACK = new Command.Ack("w", List.of());

    @Test
    void almostFull_refusesEnqueueOnly() {
        assertThat(guard.refusal(ENQUEUE)).isNull();
        free.set(10 * MIB);
        clock.advance(DiskSpace.SAMPLE_EVERY_MILLIS);
        DiskFullException refused = guard.refusal(ENQUEUE);
        assertThat(refused).isNotNull();
        assertThat(refused.getMessage()).contains("almost full (10.0 MiB free, below --min-free-disk 64MiB)")
                .contains("nothing of this call was stored").doesNotContain("/data");
        assertThat(refused.isNoSpace()).isTrue();
        for (Command c : List.of(ACK, new Command.Nack("w", "j", "t", "e", false, null),
                new Command.Lease("w", List.of(), 1, 0, new Object()), new Command.Heartbeat("w", List.of()),
                new Command.CancelJob("j"), new Command.DeleteDead("q", List.of()), new Command.Tick())) {
            assertThat(guard.refusal(c)).as(c.toString()).isNull();
        }
        assertThat(guard.problem()).startsWith("disk almost full: 10.0 MiB free in /data");
        assertThat(guard.isFull()).isFalse();
    }

    @Test
    void afterAWriteFailedForLackOfSpace_everyWriteIsRefused_readsGoOn() {
        guard.writeFailed(NO_SPACE, clock.millis());
        assertThat(guard.isFull()).isTrue();
        assertThat(guard.problem()).startsWith("disk full: a write to the store in /data failed for lack of space");
        assertThat(guard.refusal(ACK)).isNotNull();
        assertThat(guard.refusal(ENQUEUE)).isNotNull();
        for (Command c : List.of(new Command.GetJob("j"), new Command.ListQueues(), new Command.ListWorkers(),
                new Command.ListJobs("q", null, 10, ""), new Command.Unpark(new Object()), new Command.Shutdown())) {
            assertThat(guard.refusal(c)).as(c.toString()).isNull();
        }
    }

    @Test
    void anotherStoreFailure_doesNotStopWrites() {
        guard.writeFailed(new StoreException("corrupt block", null, false), clock.millis());
        assertThat(guard.isFull()).isFalse();
        assertThat(guard.refusal(ACK)).isNull();
    }

    @Test
    void reopensOnceASecondWhenThereIsRoom_reloadsBeforeTakingWritesAgain() {
        free.set(0);
        guard.writeFailed(NO_SPACE, clock.millis());
        assertThat(reopenIfDue()).isFalse();
        clock.advance(DiskGuard.REOPEN_EVERY_MILLIS);
        assertThat(reopenIfDue()).as("no room yet").isFalse();
        assertThat(store.reopens).hasValue(0);

        free.set(100 * MIB);
        clock.advance(DiskGuard.REOPEN_EVERY_MILLIS - 1);
        assertThat(reopenIfDue()).as("not due yet").isFalse();
        clock.advance(1);
        assertThat(reopenIfDue()).isTrue();
        assertThat(store.reopens).hasValue(1);
        assertThat(reloads).hasValue(1);
        assertThat(guard.isFull()).isFalse();
        assertThat(guard.problem()).isNull();
        assertThat(guard.refusal(ACK)).isNull();
    }

    @Test
    void aFailedReopen_isRetriedWhenFreeSpaceGrows_orAfterAWhile() {
        guard.writeFailed(NO_SPACE, clock.millis());
        store.failing = true;
        free.set(70 * MIB);
        clock.advance(DiskGuard.REOPEN_EVERY_MILLIS);
        assertThat(reopenIfDue()).isFalse();
        assertThat(store.reopens).hasValue(1);

        clock.advance(DiskGuard.REOPEN_EVERY_MILLIS);
        free.set(70 * MIB + DiskGuard.REOPEN_GROWTH_BYTES - 1);
        assertThat(reopenIfDue()).isFalse();
        assertThat(store.reopens).as("as much room as the failed try: no new try").hasValue(1);

        clock.advance(DiskGuard.REOPEN_EVERY_MILLIS);
        free.set(70 * MIB + DiskGuard.REOPEN_GROWTH_BYTES);
        assertThat(reopenIfDue()).isFalse();
        assertThat(store.reopens).as("space grew: tried again").hasValue(2);

        clock.advance(DiskGuard.RETRY_ANYWAY_MILLIS);
        store.failing = false;
        assertThat(reopenIfDue()).as("tried again after a while").isTrue();
        assertThat(store.reopens).hasValue(3);
        assertThat(reloads).hasValue(1);
    }

    private boolean reopenIfDue() {
        return guard.reopenIfDue(clock.millis(), reloads::incrementAndGet);
    }

    /** Counts reopens, which fail while {@code failing}; nothing else is used. */
    private static final class ReopenableStore implements Store {
        final AtomicInteger reopens = new AtomicInteger();
        volatile boolean failing;

        @Override
        public void reopen() {
            reopens.incrementAndGet();
            if (failing) {
                throw new StoreException("cannot open: No space left on device", null, true);
            }
        }

        @Override
        public StoredState load() {
            throw new UnsupportedOperationException();
        }

        @Override
        public io.hoist.broker.engine.Job readJob(String id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void readJobs(java.util.Collection<String> ids, java.util.function.Consumer<io.hoist.broker.engine.Job> action) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void forEachJob(java.util.function.Consumer<io.hoist.broker.engine.Job> action) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void commit(ChangeSet changes, boolean sync) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long sizeBytes() {
            return 0;
        }

        @Override
        public long figure(String name) {
            return 0;
        }

        @Override
        public long checkpoint(Path dir) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void sync() {
        }

        @Override
        public void close() {
        }
    }

    private static final class MutableClock extends Clock {
        private long millis = 1_000_000;

        void advance(long by) {
            millis += by;
        }

        @Override
        public long millis() {
            return millis;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
