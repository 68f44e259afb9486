package io.hoist.broker.runtime;

import io.hoist.broker.engine.Job;
import io.hoist.broker.engine.Outcome;
import io.hoist.broker.store.ChangeSet;
import io.hoist.broker.store.Store;
import io.hoist.broker.store.StoreException;
import io.hoist.broker.store.StoredState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class SyncPipelineTest {
    private final SyncingStore store = new SyncingStore();
    private final SyncPipeline pipeline = new SyncPipeline(store, EngineObserver.NONE, 0);

    @AfterEach
    void tearDown() {
        store.gate.release(1_000);
        pipeline.close();
    }

    @Test
    void aRoundIsAnsweredOnlyAfterASyncThatBeganAfterItsWrite() {
        CompletableFuture<Outcome> first = round(true);
        await().atMost(Duration.ofSeconds(5)).until(() -> store.syncsStarted.get() == 1);
        CompletableFuture<Outcome> second = round(true); // written while the first sync runs
        CompletableFuture<Outcome> readOnly = round(false); // may have read what the second wrote
        assertThat(first).isNotDone();

        store.gate.release(); // the first sync ends: only the first round is durable
        await().atMost(Duration.ofSeconds(5)).until(first::isDone);
        assertThat(first).isCompletedWithValue(new Outcome.Done());
        await().atMost(Duration.ofSeconds(5)).until(() -> store.syncsStarted.get() == 2);
        assertThat(second).isNotDone();
        assertThat(readOnly).isNotDone();

        store.gate.release();
        await().atMost(Duration.ofSeconds(5)).until(() -> second.isDone() && readOnly.isDone());
        assertThat(store.syncsStarted).hasValue(2); // one sync covered both later rounds
    }

    @Test
    void aFailedSync_failsItsRoundsAndEveryLaterOneUntilTheEngineHasRecovered() {
        store.failing = true;
        CompletableFuture<Outcome> lost = round(true);
        store.gate.release();
        await().atMost(Duration.ofSeconds(5)).until(lost::isDone);
        assertThat(lost).isCompletedExceptionally();
        assertThat(pipeline.failure()).isNotNull();

        store.failing = false;
        CompletableFuture<Outcome> beforeRecovery = round(true); // applied on memory the disk may have lost
        await().atMost(Duration.ofSeconds(5)).until(beforeRecovery::isDone);
        assertThat(beforeRecovery).isCompletedExceptionally();
        assertThat(store.syncsStarted).hasValue(1);

        pipeline.awaitIdle();
        pipeline.recovered();
        CompletableFuture<Outcome> after = round(true);
        store.gate.release();
        await().atMost(Duration.ofSeconds(5)).until(after::isDone);
        assertThat(after).isCompletedWithValue(new Outcome.Done());
    }

    @Test
    void roundsWithNoAnswers_doNotStopThePipeline() {
        pipeline.submit(List.of(), false, 0);
        pipeline.submit(List.of(), true, 0);
        CompletableFuture<Outcome> later = round(true);
        store.gate.release();
        await().atMost(Duration.ofSeconds(5)).until(later::isDone);
        assertThat(later).isCompletedWithValue(new Outcome.Done());
    }

    @Test
    void close_syncsAndAnswersWhatWasHandedOver() {
        CompletableFuture<Outcome> pending = round(true);
        store.gate.release();
        pipeline.close();
        assertThat(pending).isCompletedWithValue(new Outcome.Done());
    }

    @Test
    void readyOrdersAreDurableOnceTheirRoundIsSynced_notBefore_notAfterAFailedSync() {
        assertThat(pipeline.isDurable(0)).isFalse();
        CompletableFuture<Outcome> first = round(true, 5);
        assertThat(pipeline.isDurable(4)).isFalse(); // its sync waits for the gate
        store.gate.release();
        await().atMost(Duration.ofSeconds(5)).until(first::isDone);
        assertThat(pipeline.isDurable(4)).isTrue();
        assertThat(pipeline.isDurable(5)).isFalse();

        store.failing = true;
        CompletableFuture<Outcome> second = round(true, 9);
        store.gate.release();
        await().atMost(Duration.ofSeconds(5)).until(second::isDone);
        assertThat(second).isCompletedExceptionally();
        assertThat(pipeline.isDurable(5)).isFalse();
    }

    private CompletableFuture<Outcome> round(boolean wrote) {
        return round(wrote, 0);
    }

    private CompletableFuture<Outcome> round(boolean wrote, long nextReadyOrder) {
        CompletableFuture<Outcome> caller = new CompletableFuture<>();
        pipeline.submit(List.of(new RoundEffects.Answer(caller, new Outcome.Done())), wrote, nextReadyOrder);
        return caller;
    }

    /** Each sync waits for a permit of {@link #gate}, then succeeds or fails. */
    private static final class SyncingStore implements Store {
        final Semaphore gate = new Semaphore(0);
        final AtomicInteger syncsStarted = new AtomicInteger();
        volatile boolean failing;

        @Override
        public void sync() {
            syncsStarted.incrementAndGet();
            gate.acquireUninterruptibly();
            if (failing) {
                throw new StoreException("fsync failed: Input/output error", null, false);
            }
        }

        @Override public StoredState load() { throw new UnsupportedOperationException(); }
        @Override public Job readJob(String id) { throw new UnsupportedOperationException(); }
        @Override public void readJobs(java.util.Collection<String> ids, Consumer<Job> action) { throw new UnsupportedOperationException(); }
        @Override public void forEachJob(Consumer<Job> action) { throw new UnsupportedOperationException(); }
        @Override public void commit(ChangeSet changes, boolean sync) { throw new UnsupportedOperationException(); }
        @Override public long sizeBytes() { return 0; }
        @Override public long figure(String name) { return 0; }
        @Override public long checkpoint(Path dir) { throw new UnsupportedOperationException(); }
        @Override public void reopen() { }
        @Override public void close() { }
    }
}
