package io.hoist.broker;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.hoist.proto.v1.AckOutcome;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.AckResponse;
import io.hoist.proto.v1.AckResult;
import io.hoist.proto.v1.CancelJobRequest;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.EnqueueResponse;
import io.hoist.proto.v1.EnqueuedJob;
import io.hoist.proto.v1.GetJobRequest;
import io.hoist.proto.v1.HeartbeatRequest;
import io.hoist.proto.v1.HeartbeatResponse;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobAck;
import io.hoist.proto.v1.JobServiceGrpc;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.NackRequest;
import io.hoist.proto.v1.NackResponse;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.RetryPolicy;
import io.hoist.proto.v1.WorkerServiceGrpc;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Process-level crash tests: the packaged broker jar runs as a child process, is stopped while
 * enqueue calls are in flight (SIGKILL, or SIGTERM for a clean stop), and is started again on the
 * same data dir. Every call the broker answered before it died must still be true afterwards:
 * the jobs exist, whole, in the state they were left in, and leases come out in the same order.
 *
 * <p>Order is only checked where the clients can know it: if call X was answered before call Y was
 * sent, X's jobs come before Y's (same queue, same priority); jobs of one batch keep their order.
 * Calls that overlapped may have been applied either way round.
 */
class BrokerCrashIT {
    private static final String WORK_QUEUE = "crash.work";
    private static final List<String> QUEUES = List.of("crash.alpha", "crash.beta", "crash.gamma");
    private static final int[] PRIORITIES = {0, 0, 0, 0, 4, 4, 9};
    /** A safety stop for the producers, far above what a test waits for. */
    private static final int MAX_SUBMITTED_JOBS = 60_000;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    @TempDir
    Path tmp;

    private final List<Broker> brokers = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<Producer> producers = new ArrayList<>();

    @AfterEach
    void stopEverything() throws InterruptedException {
        for (Producer p : producers) {
            p.stop = true;
            p.thread.interrupt();
        }
        for (ManagedChannel ch : channels) {
            ch.shutdownNow();
        }
        for (Broker b : brokers) {
            if (b.process.isAlive()) {
                b.process.destroyForcibly();
                b.process.waitFor(10, SECONDS);
            }
        }
    }

    // ------------------------------------------------------------------ tests

    @Test
    @Timeout(value = 50, unit = SECONDS)
    void killNineWithEnqueuesInFlightLosesNoAcknowledgedCallAndKeepsLeasesAndOrder() throws Exception {
        Path data = tmp.resolve("data");
        withBrokerLogsOnFailure(() -> {
            Broker first = startBroker("first", data);
            ManagedChannel ch = channel(first);
            Ledger ledger = new Ledger();

            // crash.work: jobs for a worker to lease, ack, nack and cancel while the producers enqueue
            Random feed = new Random(11);
            for (int seq = 0; seq < 2; seq++) {
                List<JobSpec> specs = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    specs.add(spec(feed, "feeder", seq, i, WORK_QUEUE, true));
                }
                ledger.enqueueAndWait(ch, new Call("feeder", seq, true, specs));
            }

            // one call after another's answer (strict FIFO applies) and many calls at once
            startProducer("seq-a", 1, true, ledger, ch, 1);
            startProducer("seq-b", 1, false, ledger, ch, 2);
            startProducer("conc-c", 12, true, ledger, ch, 3);
            startProducer("conc-d", 12, false, ledger, ch, 4);
            await("producers under way").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10))
                    .until(() -> ledger.acknowledgedJobs.get() >= 400);

            // a worker at work, also while the producers enqueue
            String w1 = workers(ch).register(RegisterRequest.newBuilder().setName("crash-w1").addQueues(WORK_QUEUE)
                    .build()).getWorkerId();
            List<LeasedJob> leased = workers(ch).lease(LeaseRequest.newBuilder().setWorkerId(w1).addQueues(WORK_QUEUE)
                    .setMaxJobs(40).build()).getJobsList();
            assertThat(leased).hasSize(40);
            List<LeasedJob> acked = leased.subList(0, 20);
            LeasedJob nacked = leased.get(20);
            LeasedJob cancelWhileLeased = leased.get(21);
            List<LeasedJob> held = leased.subList(22, 40);

            AckResponse ackAnswer = workers(ch).ack(ackRequest(w1, acked));
            assertThat(ackAnswer.getResultsList()).extracting(AckResult::getOutcome)
                    .hasSize(20).containsOnly(AckOutcome.ACK_OUTCOME_ACKED);
            NackResponse nackAnswer = workers(ch).nack(NackRequest.newBuilder().setWorkerId(w1)
                    .setJobId(nacked.getJob().getId()).setLeaseToken(nacked.getLeaseToken())
                    .setError("crash test: try again in an hour").setRetryAfter(protoSeconds(3600)).build());
            assertThat(nackAnswer.getState()).isEqualTo(JobState.JOB_STATE_SCHEDULED);
            assertThat(jobs(ch).cancelJob(cancel(cancelWhileLeased.getJob().getId())).getState())
                    .isEqualTo(JobState.JOB_STATE_LEASED);
            Set<String> leasedIds = leased.stream().map(l -> l.getJob().getId()).collect(Collectors.toSet());
            String readyToCancel = ledger.byKey.values().stream()
                    .filter(s -> s.call().producer.equals("feeder") && !leasedIds.contains(s.jobId()))
                    .map(Sent::jobId).max(Comparator.naturalOrder()).orElseThrow();
            assertThat(jobs(ch).cancelJob(cancel(readyToCancel)).getState()).isEqualTo(JobState.JOB_STATE_CANCELED);

            await("a few thousand acknowledged jobs").atMost(Duration.ofSeconds(25)).pollInterval(Duration.ofMillis(10))
                    .until(() -> ledger.acknowledgedJobs.get() >= 3_200
                            && ledger.acknowledgedBy("seq-a") >= 150 && ledger.acknowledgedBy("seq-b") >= 150);

            // kill -9 with enqueue calls in flight
            int inFlightAtKill = ledger.inFlight.get();
            first.kill9();
            // taken once the broker is dead: forking kill(1) takes long enough for the calls in flight
            // when it started to be answered, so "before the kill" means "before the broker died"
            long killNanos = System.nanoTime();
            assertThat(first.process.exitValue()).as("exit status of a JVM killed by SIGKILL").isEqualTo(137);
            awaitProducersStopped(ledger);
            ch.shutdownNow();
            List<Call> cutOff = ledger.calls.stream()
                    .filter(c -> !c.acknowledged() && c.submitNanos < killNanos).collect(Collectors.toList());
            assertThat(inFlightAtKill).as("enqueue calls in flight just before the kill").isPositive();
            assertThat(cutOff).as("enqueue calls sent before the kill and never answered").isNotEmpty();

            // start again on the same data dir
            Broker second = startBroker("second", data);
            ManagedChannel ch2 = channel(second);
            assertThat(nativeLibrariesIn(tmp.resolve("java-tmp")))
                    .as("RocksDB's native library: one copy for both brokers, none left by the killed one")
                    .hasSize(1);

            // the worker comes back within its session timeout: its leases are still its own
            List<String> stillHeld = new ArrayList<>(ids(held));
            stillHeld.add(cancelWhileLeased.getJob().getId());
            HeartbeatResponse hb;
            try {
                hb = workers(ch2).heartbeat(HeartbeatRequest.newBuilder().setWorkerId(w1)
                        .addAllActiveJobIds(stillHeld).build());
            } catch (StatusRuntimeException e) {
                throw new AssertionError("the worker's session did not survive the restart: " + e.getStatus(), e);
            }
            assertThat(hb.getLostJobIdsList()).as("leases lost across the restart").isEmpty();
            assertThat(hb.getCanceledJobIdsList()).containsExactly(cancelWhileLeased.getJob().getId());

            for (LeasedJob l : held) {
                Job j = jobs(ch2).getJob(get(l.getJob().getId()));
                assertThat(j.getState()).as("state of %s, leased before the kill", j.getId()).isEqualTo(JobState.JOB_STATE_LEASED);
                assertThat(j.getWorkerId()).as("holder of %s", j.getId()).isEqualTo(w1);
                assertThat(j.getAttempt()).as("attempt of %s", j.getId()).isEqualTo(1);
                assertThat(j.getCancelRequested()).isFalse();
            }
            Job canceling = jobs(ch2).getJob(get(cancelWhileLeased.getJob().getId()));
            assertThat(canceling.getState()).isEqualTo(JobState.JOB_STATE_LEASED);
            assertThat(canceling.getWorkerId()).isEqualTo(w1);
            assertThat(canceling.getCancelRequested()).as("cancel request survives the restart").isTrue();
            for (LeasedJob l : acked) {
                assertThat(jobs(ch2).getJob(get(l.getJob().getId())).getState())
                        .as("state of %s, acked before the kill", l.getJob().getId()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
            }
            Job retrying = jobs(ch2).getJob(get(nacked.getJob().getId()));
            assertThat(retrying.getState()).as("the nacked job").isEqualTo(JobState.JOB_STATE_SCHEDULED);
            assertThat(retrying.getAttempt()).isEqualTo(1);
            assertThat(retrying.getLastError()).isEqualTo("crash test: try again in an hour");
            assertThat(Instant.ofEpochSecond(retrying.getRunAt().getSeconds()))
                    .isAfter(Instant.now().plus(Duration.ofMinutes(50)));
            assertThat(jobs(ch2).getJob(get(readyToCancel)).getState()).isEqualTo(JobState.JOB_STATE_CANCELED);

            // the worker finishes with the lease tokens it got before the crash
            List<LeasedJob> finishing = new ArrayList<>(held);
            finishing.addAll(acked); // repeated acks of accepted deliveries are harmless
            assertThat(workers(ch2).ack(ackRequest(w1, finishing)).getResultsList()).extracting(AckResult::getOutcome)
                    .hasSize(finishing.size()).containsOnly(AckOutcome.ACK_OUTCOME_ACKED);
            assertThat(workers(ch2).nack(NackRequest.newBuilder().setWorkerId(w1)
                    .setJobId(cancelWhileLeased.getJob().getId()).setLeaseToken(cancelWhileLeased.getLeaseToken())
                    .setError("canceled").build()).getState()).isEqualTo(JobState.JOB_STATE_CANCELED);

            Map<String, JobState> finalStates = new HashMap<>();
            for (LeasedJob l : finishing) {
                finalStates.put(l.getJob().getId(), JobState.JOB_STATE_SUCCEEDED);
            }
            finalStates.put(nacked.getJob().getId(), JobState.JOB_STATE_SCHEDULED);
            finalStates.put(cancelWhileLeased.getJob().getId(), JobState.JOB_STATE_CANCELED);
            finalStates.put(readyToCancel, JobState.JOB_STATE_CANCELED);
            verifyEveryEnqueueAfterRestart(ledger, finalStates, ch2, Set.of("feeder", "seq-a", "seq-b"));
        });
    }

    @Test
    @Timeout(value = 40, unit = SECONDS)
    void sigtermWithEnqueuesInFlightStopsCleanlyAndARestartSeesEveryAcknowledgedJob() throws Exception {
        Path data = tmp.resolve("data");
        withBrokerLogsOnFailure(() -> {
            Broker first = startBroker("first", data);
            ManagedChannel ch = channel(first);
            Ledger ledger = new Ledger();
            startProducer("seq-a", 1, true, ledger, ch, 21);
            startProducer("conc-b", 8, true, ledger, ch, 22);
            startProducer("conc-c", 8, false, ledger, ch, 23);
            await("acknowledged jobs").atMost(Duration.ofSeconds(25)).pollInterval(Duration.ofMillis(10))
                    .until(() -> ledger.acknowledgedJobs.get() >= 1_500 && ledger.acknowledgedBy("seq-a") >= 150);

            long stopNanos = System.nanoTime();
            first.process.destroy(); // SIGTERM
            assertThat(first.process.waitFor(20, SECONDS)).as("the broker exits after SIGTERM").isTrue();
            long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopNanos);
            // the JVM exits with 128 + SIGTERM once the shutdown hook (which closes the store) has run
            assertThat(first.process.exitValue()).as("exit status after SIGTERM").isEqualTo(143);
            String log = Files.readString(first.log);
            assertThat(log).contains("shutting down").contains("stopped");
            assertThat(log).doesNotContain(" ERROR ");
            assertThat(stopMillis).as("ms from SIGTERM to exit").isLessThan(15_000);

            awaitProducersStopped(ledger);
            ch.shutdownNow();
            // a call the broker did not take during its shutdown is refused as UNAVAILABLE, never left half done
            assertThat(ledger.calls.stream().filter(c -> c.failure != null).map(c -> c.failure.getCode())
                    .collect(Collectors.toSet())).containsOnly(Status.Code.UNAVAILABLE);

            Broker second = startBroker("second", data);
            ManagedChannel ch2 = channel(second);
            verifyEveryEnqueueAfterRestart(ledger, Map.of(), ch2, Set.of("seq-a"));
        });
    }

    // ------------------------------------------------------------------ verification

    /**
     * After a restart: every acknowledged job is there, whole, in its expected state ({@code
     * finalStates}, READY by default); every unacknowledged call stored all of its jobs or none;
     * and leasing everything READY gives exactly the expected jobs, highest priority first, and
     * within a priority in the order the broker provably applied the calls.
     */
    private void verifyEveryEnqueueAfterRestart(Ledger ledger, Map<String, JobState> finalStatesById, ManagedChannel ch,
                                                Set<String> sequentialProducers) throws Exception {
        List<String> problems = new ArrayList<>();
        Map<String, JobState> finalStates = new HashMap<>(finalStatesById);
        Map<String, Sent> byJobId = new HashMap<>();
        for (Sent s : ledger.byKey.values()) {
            if (s.jobId() != null) {
                byJobId.put(s.jobId(), s);
            }
        }

        // the answers themselves
        for (Call c : ledger.calls) {
            if (!c.acknowledged()) {
                continue;
            }
            if (c.response.getJobsCount() != c.specs.size()) {
                problems.add(c + ": answered " + c.response.getJobsCount() + " jobs for " + c.specs.size() + " specs");
                continue;
            }
            for (int i = 0; i < c.specs.size(); i++) {
                EnqueuedJob e = c.response.getJobs(i);
                if (e.getDuplicate() || e.getState() != JobState.JOB_STATE_READY
                        || (c.clientIds && !e.getJobId().equals(c.specs.get(i).getJobId()))) {
                    problems.add(c + " answer " + i + " is " + e);
                }
            }
        }

        // GetJob of every acknowledged job
        List<Sent> acknowledged = ledger.byKey.values().stream().filter(s -> s.call().acknowledged())
                .collect(Collectors.toList());
        Map<String, Lookup> found = getJobs(ch, acknowledged.stream().map(Sent::jobId).collect(Collectors.toList()));
        for (Sent s : acknowledged) {
            Lookup l = found.get(s.jobId());
            JobState expected = finalStates.getOrDefault(s.jobId(), JobState.JOB_STATE_READY);
            if (l.job == null) {
                problems.add("acknowledged job " + s.jobId() + " (" + s.key() + ") is gone: " + l.status);
            } else if (!l.job.getSpec().equals(s.spec())) {
                problems.add("job " + s.jobId() + " came back with spec " + l.job.getSpec() + ", sent " + s.spec());
            } else if (l.job.getState() != expected) {
                problems.add("job " + s.jobId() + " is " + l.job.getState() + ", expected " + expected);
            }
        }

        // GetJob of the unacknowledged jobs whose ids we know: all of a call, or none, and whole
        Map<Call, List<Sent>> unanswered = new LinkedHashMap<>();
        for (Sent s : ledger.byKey.values()) {
            if (!s.call().acknowledged()) {
                unanswered.computeIfAbsent(s.call(), c -> new ArrayList<>()).add(s);
            }
        }
        List<String> knownUnanswered = unanswered.values().stream().flatMap(List::stream)
                .filter(s -> s.call().clientIds).map(Sent::jobId).collect(Collectors.toList());
        Map<String, Lookup> unansweredFound = getJobs(ch, knownUnanswered);
        Set<String> existingUnanswered = new HashSet<>();
        for (Map.Entry<String, Lookup> e : unansweredFound.entrySet()) {
            Lookup l = e.getValue();
            if (l.job != null) {
                existingUnanswered.add(e.getKey());
                Sent s = byJobId.get(e.getKey());
                if (!l.job.getSpec().equals(s.spec()) || l.job.getState() != JobState.JOB_STATE_READY) {
                    problems.add("unacknowledged job " + e.getKey() + " exists but is not whole and READY: " + l.job);
                }
            } else if (l.status.getCode() != Status.Code.NOT_FOUND) {
                problems.add("GetJob " + e.getKey() + " failed: " + l.status);
            }
        }

        // lease everything READY, queue by queue
        Map<String, List<Sent>> drained = new TreeMap<>();
        Set<String> drainedKeys = new HashSet<>();
        String w2 = workers(ch).register(RegisterRequest.newBuilder().setName("crash-drain")
                .addAllQueues(QUEUES).addQueues(WORK_QUEUE).build()).getWorkerId();
        List<String> allQueues = new ArrayList<>(QUEUES);
        allQueues.add(WORK_QUEUE);
        for (String q : allQueues) {
            List<Sent> order = new ArrayList<>();
            while (true) {
                List<LeasedJob> batch = workers(ch).lease(LeaseRequest.newBuilder().setWorkerId(w2).addQueues(q)
                        .setMaxJobs(1_000).build()).getJobsList();
                if (batch.isEmpty()) {
                    break;
                }
                for (LeasedJob lj : batch) {
                    Job j = lj.getJob();
                    Sent s = ledger.byKey.get(j.getSpec().getHeadersOrDefault("k", ""));
                    if (s == null) {
                        problems.add("leased a job nobody enqueued: " + j);
                        continue;
                    }
                    if (!drainedKeys.add(s.key())) {
                        problems.add("leased " + s.key() + " twice");
                    }
                    if (!j.getSpec().equals(s.spec()) || !j.getSpec().getQueue().equals(q)) {
                        problems.add("leased " + j.getId() + " from " + q + " with spec " + j.getSpec() + ", sent " + s.spec());
                    }
                    if (s.jobId() != null && !s.jobId().equals(j.getId())) {
                        problems.add("leased " + s.key() + " as " + j.getId() + ", acknowledged as " + s.jobId());
                    }
                    if (s.call().acknowledged()
                            && finalStates.getOrDefault(s.jobId(), JobState.JOB_STATE_READY) != JobState.JOB_STATE_READY) {
                        problems.add("leased " + s.jobId() + ", which should be " + finalStates.get(s.jobId()));
                    }
                    if (!s.call().acknowledged() && s.call().clientIds && !existingUnanswered.contains(s.jobId())) {
                        problems.add("leased " + s.jobId() + ", which GetJob did not find");
                    }
                    order.add(s);
                }
            }
            drained.put(q, order);
        }
        for (Sent s : acknowledged) {
            if (finalStates.getOrDefault(s.jobId(), JobState.JOB_STATE_READY) == JobState.JOB_STATE_READY
                    && !drainedKeys.contains(s.key())) {
                problems.add("acknowledged READY job " + s.jobId() + " (" + s.key() + ") could not be leased");
            }
        }
        for (String id : existingUnanswered) {
            if (!drainedKeys.contains(byJobId.get(id).key())) {
                problems.add("unacknowledged job " + id + " exists but could not be leased");
            }
        }
        int unansweredStored = 0;
        for (Map.Entry<Call, List<Sent>> e : unanswered.entrySet()) {
            long present = e.getValue().stream().filter(s -> drainedKeys.contains(s.key())).count();
            if (present != 0 && present != e.getKey().specs.size()) {
                problems.add("unacknowledged batch " + e.getKey() + " is half stored: " + present + " of "
                        + e.getKey().specs.size() + " jobs");
            }
            if (present > 0) {
                unansweredStored++;
            }
        }

        // the order
        Map<String, Integer> sequentialJobsChecked = new TreeMap<>();
        for (Map.Entry<String, List<Sent>> e : drained.entrySet()) {
            checkLeaseOrder(e.getKey(), e.getValue(), sequentialProducers, sequentialJobsChecked, problems);
        }

        if (!problems.isEmpty()) {
            throw new AssertionError(problems.size() + " problems after the restart; the first ones:\n  "
                    + String.join("\n  ", problems.subList(0, Math.min(30, problems.size()))));
        }
        assertThat(drainedKeys).as("jobs leased after the restart").hasSizeGreaterThanOrEqualTo(
                (int) acknowledged.stream().filter(s -> !finalStates.containsKey(s.jobId())).count());
        for (String p : sequentialProducers) {
            assertThat(sequentialJobsChecked.getOrDefault(p, 0)).as("jobs of %s checked for strict FIFO", p)
                    .isGreaterThan(100);
        }
        System.out.printf("BrokerCrashIT: %d calls (%d answered), %d jobs acknowledged, %d leased back in order "
                        + "(strict FIFO per sequential producer: %s); %d unanswered calls, %d of them stored whole%n",
                ledger.calls.size(), ledger.calls.stream().filter(Call::acknowledged).count(), acknowledged.size(),
                drainedKeys.size(), sequentialJobsChecked, unanswered.size(), unansweredStored);
    }

    /**
     * Within one queue: priorities never go up; within a priority, a job never comes after one
     * whose call was sent only after its own call was answered; a batch keeps its order; and a
     * sequential producer's jobs come out exactly in the order it sent them.
     */
    private static void checkLeaseOrder(String queue, List<Sent> order, Set<String> sequentialProducers,
                                        Map<String, Integer> sequentialJobsChecked, List<String> problems) {
        for (int i = 1; i < order.size(); i++) {
            if (order.get(i).spec().getPriority() > order.get(i - 1).spec().getPriority()) {
                problems.add(queue + ": " + order.get(i).key() + " (priority " + order.get(i).spec().getPriority()
                        + ") leased after " + order.get(i - 1).key() + " (priority "
                        + order.get(i - 1).spec().getPriority() + ")");
            }
        }
        Map<Integer, List<Sent>> byPriority = order.stream()
                .collect(Collectors.groupingBy(s -> s.spec().getPriority(), TreeMap::new, Collectors.toList()));
        for (Map.Entry<Integer, List<Sent>> e : byPriority.entrySet()) {
            String where = queue + " priority " + e.getKey();
            Sent latestSent = null;
            Map<Call, Integer> lastIndex = new HashMap<>();
            Map<String, Sent> lastOfProducer = new HashMap<>();
            for (Sent s : e.getValue()) {
                if (latestSent != null && s.call().answeredNanos < latestSent.call().submitNanos) {
                    problems.add(where + ": " + s.key() + " leased after " + latestSent.key()
                            + ", whose call was sent " + TimeUnit.NANOSECONDS.toMillis(
                            latestSent.call().submitNanos - s.call().answeredNanos) + " ms after the answer to "
                            + s.key() + "'s call");
                }
                if (latestSent == null || s.call().submitNanos > latestSent.call().submitNanos) {
                    latestSent = s;
                }
                Integer before = lastIndex.put(s.call(), s.index());
                if (before != null && before > s.index()) {
                    problems.add(where + ": batch " + s.call() + " came out of order (" + s.index() + " after " + before + ")");
                }
                if (sequentialProducers.contains(s.call().producer)) {
                    Sent prev = lastOfProducer.put(s.call().producer, s);
                    if (prev != null && (prev.call().seq > s.call().seq
                            || (prev.call().seq == s.call().seq && prev.index() > s.index()))) {
                        problems.add(where + ": " + s.key() + " leased after " + prev.key() + " (FIFO of one producer)");
                    }
                    sequentialJobsChecked.merge(s.call().producer, 1, Integer::sum);
                }
            }
        }
    }

    // ------------------------------------------------------------------ what the clients sent

    /** One enqueue call as sent, and whether (and when) its answer came. */
    static final class Call {
        final String producer;
        final int seq;
        final boolean clientIds;
        final List<JobSpec> specs;
        volatile long submitNanos;
        /** Long.MAX_VALUE until the answer arrived. */
        volatile long answeredNanos = Long.MAX_VALUE;
        volatile EnqueueResponse response;
        volatile Status failure;

        Call(String producer, int seq, boolean clientIds, List<JobSpec> specs) {
            this.producer = producer;
            this.seq = seq;
            this.clientIds = clientIds;
            this.specs = specs;
        }

        boolean acknowledged() {
            return response != null;
        }

        @Override
        public String toString() {
            return producer + "#" + seq + "(" + specs.size() + " jobs)";
        }
    }

    /** One spec as sent; its key (header {@code k}) finds it again whatever id the broker gave it. */
    record Sent(Call call, int index, JobSpec spec) {
        String key() {
            return spec.getHeadersOrThrow("k");
        }

        /** The job's id, or null while the broker generates ids and has not answered. */
        String jobId() {
            if (call.clientIds) {
                return spec.getJobId();
            }
            EnqueueResponse r = call.response;
            return r == null ? null : r.getJobs(index).getJobId();
        }
    }

    /** Every call the clients made, answered or not. */
    static final class Ledger {
        final Queue<Call> calls = new ConcurrentLinkedQueue<>();
        final Map<String, Sent> byKey = new ConcurrentHashMap<>();
        final AtomicInteger submittedJobs = new AtomicInteger();
        final AtomicInteger acknowledgedJobs = new AtomicInteger();
        final AtomicInteger inFlight = new AtomicInteger();
        final Map<String, AtomicInteger> acknowledgedByProducer = new ConcurrentHashMap<>();

        int acknowledgedBy(String producer) {
            AtomicInteger n = acknowledgedByProducer.get(producer);
            return n == null ? 0 : n.get();
        }

        void submitting(Call c) {
            calls.add(c);
            for (int i = 0; i < c.specs.size(); i++) {
                Sent s = new Sent(c, i, c.specs.get(i));
                byKey.put(s.key(), s);
            }
            submittedJobs.addAndGet(c.specs.size());
            inFlight.incrementAndGet();
            c.submitNanos = System.nanoTime();
        }

        void answered(Call c, EnqueueResponse r) {
            c.answeredNanos = System.nanoTime();
            c.response = r;
            acknowledgedJobs.addAndGet(c.specs.size());
            acknowledgedByProducer.computeIfAbsent(c.producer, p -> new AtomicInteger()).addAndGet(c.specs.size());
            inFlight.decrementAndGet();
        }

        void failed(Call c, Throwable t) {
            c.failure = Status.fromThrowable(t);
            inFlight.decrementAndGet();
        }

        void enqueueAndWait(ManagedChannel ch, Call c) {
            submitting(c);
            try {
                answered(c, jobs(ch).enqueue(EnqueueRequest.newBuilder().addAllJobs(c.specs).build()));
            } catch (RuntimeException e) {
                failed(c, e);
                throw e;
            }
        }
    }

    /**
     * Enqueues calls of random specs with up to {@code window} calls in flight (1: each call only
     * after the previous one's answer), until told to stop or a call fails.
     */
    static final class Producer {
        final String name;
        final boolean clientIds;
        final Ledger ledger;
        final JobServiceGrpc.JobServiceStub stub;
        final Random random;
        final int maxBatch;
        final Semaphore permits;
        final AtomicBoolean failed = new AtomicBoolean();
        final Thread thread;
        volatile boolean stop;

        Producer(String name, int window, boolean clientIds, Ledger ledger, ManagedChannel ch, long seed) {
            this.name = name;
            this.clientIds = clientIds;
            this.ledger = ledger;
            this.stub = JobServiceGrpc.newStub(ch);
            this.random = new Random(seed);
            // sequential producers get one call per engine round, concurrent ones a call per slot of their
            // window: bigger batches for the former keep their share of the jobs reasonable
            this.maxBatch = window == 1 ? 30 : 20;
            this.permits = new Semaphore(window);
            this.thread = new Thread(this::run, "producer-" + name);
            this.thread.setDaemon(true);
        }

        private void run() {
            try {
                for (int seq = 0; ; seq++) {
                    permits.acquire();
                    if (stop || failed.get() || ledger.submittedJobs.get() >= MAX_SUBMITTED_JOBS) {
                        permits.release();
                        return;
                    }
                    send(nextCall(seq));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private Call nextCall(int seq) {
            int n = random.nextInt(3) == 0 ? 1 : 2 + random.nextInt(maxBatch - 1);
            List<JobSpec> specs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                specs.add(spec(random, name, seq, i, QUEUES.get(random.nextInt(QUEUES.size())), clientIds));
            }
            return new Call(name, seq, clientIds, specs);
        }

        private void send(Call call) {
            ledger.submitting(call);
            stub.withDeadlineAfter(30, SECONDS).enqueue(EnqueueRequest.newBuilder().addAllJobs(call.specs).build(),
                    new StreamObserver<>() {
                        private EnqueueResponse answer;

                        @Override
                        public void onNext(EnqueueResponse r) {
                            answer = r;
                        }

                        @Override
                        public void onError(Throwable t) {
                            failed.set(true);
                            ledger.failed(call, t);
                            permits.release();
                        }

                        @Override
                        public void onCompleted() {
                            ledger.answered(call, answer);
                            permits.release();
                        }
                    });
        }
    }

    private void startProducer(String name, int window, boolean clientIds, Ledger ledger, ManagedChannel ch, long seed) {
        Producer p = new Producer(name, window, clientIds, ledger, ch, seed);
        producers.add(p);
        p.thread.start();
    }

    /** After the broker went away: every call in flight has failed and the producers gave up. */
    private void awaitProducersStopped(Ledger ledger) throws InterruptedException {
        await("calls in flight answered or failed").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                .until(() -> ledger.inFlight.get() == 0);
        for (Producer p : producers) {
            p.thread.join(10_000);
            assertThat(p.thread.isAlive()).as("producer %s still running", p.name).isFalse();
        }
    }

    static JobSpec spec(Random r, String producer, int seq, int i, String queue, boolean clientId) {
        String key = producer + "." + seq + "." + i;
        byte[] payload = new byte[8 + r.nextInt(248)];
        r.nextBytes(payload);
        JobSpec.Builder b = JobSpec.newBuilder()
                .setQueue(queue)
                .setType("crash:job/v1")
                .setPayload(ByteString.copyFrom(payload))
                .putHeaders("k", key)
                .putHeaders("producer", producer)
                .setPriority(PRIORITIES[r.nextInt(PRIORITIES.length)]);
        if (clientId) {
            b.setJobId("crash-" + key);
        }
        if (r.nextInt(8) == 0) {
            b.setLeaseDuration(protoSeconds(45)).setRetry(RetryPolicy.newBuilder().setMaxAttempts(5));
        }
        return b.build();
    }

    // ------------------------------------------------------------------ gRPC helpers

    private ManagedChannel channel(Broker b) {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", b.grpcPort).usePlaintext().build();
        channels.add(ch);
        return ch;
    }

    static JobServiceGrpc.JobServiceBlockingStub jobs(ManagedChannel ch) {
        return JobServiceGrpc.newBlockingStub(ch).withDeadlineAfter(20, SECONDS);
    }

    static WorkerServiceGrpc.WorkerServiceBlockingStub workers(ManagedChannel ch) {
        return WorkerServiceGrpc.newBlockingStub(ch).withDeadlineAfter(20, SECONDS);
    }

    static GetJobRequest get(String id) {
        return GetJobRequest.newBuilder().setJobId(id).build();
    }

    static CancelJobRequest cancel(String id) {
        return CancelJobRequest.newBuilder().setJobId(id).build();
    }

    static AckRequest ackRequest(String workerId, List<LeasedJob> leased) {
        AckRequest.Builder b = AckRequest.newBuilder().setWorkerId(workerId);
        for (LeasedJob l : leased) {
            b.addAcks(JobAck.newBuilder().setJobId(l.getJob().getId()).setLeaseToken(l.getLeaseToken()));
        }
        return b.build();
    }

    static List<String> ids(List<LeasedJob> leased) {
        return leased.stream().map(l -> l.getJob().getId()).collect(Collectors.toList());
    }

    static com.google.protobuf.Duration protoSeconds(long seconds) {
        return com.google.protobuf.Duration.newBuilder().setSeconds(seconds).build();
    }

    /** GetJob's answer: the job, or the status it failed with. */
    record Lookup(Job job, Status status) {
    }

    /** GetJob of many ids, up to 128 calls in flight. */
    static Map<String, Lookup> getJobs(ManagedChannel ch, Collection<String> ids) throws InterruptedException {
        JobServiceGrpc.JobServiceFutureStub stub = JobServiceGrpc.newFutureStub(ch);
        Semaphore window = new Semaphore(128);
        Map<String, ListenableFuture<Job>> calls = new LinkedHashMap<>();
        for (String id : ids) {
            window.acquire();
            ListenableFuture<Job> f = stub.withDeadlineAfter(30, SECONDS).getJob(get(id));
            f.addListener(window::release, MoreExecutors.directExecutor());
            calls.put(id, f);
        }
        Map<String, Lookup> out = new HashMap<>();
        for (Map.Entry<String, ListenableFuture<Job>> e : calls.entrySet()) {
            try {
                out.put(e.getKey(), new Lookup(e.getValue().get(), null));
            } catch (ExecutionException ex) {
                out.put(e.getKey(), new Lookup(null, Status.fromThrowable(ex.getCause())));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ the broker process

    /** A broker started from the packaged jar, its stdout and stderr in {@link #log}. */
    static final class Broker {
        final String name;
        final Process process;
        final int grpcPort;
        final int httpPort;
        final Path log;

        Broker(String name, Process process, int grpcPort, int httpPort, Path log) {
            this.name = name;
            this.process = process;
            this.grpcPort = grpcPort;
            this.httpPort = httpPort;
            this.log = log;
        }

        boolean healthy() throws InterruptedException {
            try {
                HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/healthz"))
                        .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding());
                return r.statusCode() == 200;
            } catch (IOException e) {
                return false;
            }
        }

        /** SIGKILL: no shutdown hook, no flush, no close. */
        void kill9() throws IOException, InterruptedException {
            Process kill = new ProcessBuilder("kill", "-9", Long.toString(process.pid())).redirectErrorStream(true).start();
            assertThat(kill.waitFor(10, SECONDS)).isTrue();
            assertThat(kill.exitValue()).as("kill -9 %d: %s", process.pid(),
                    new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
            assertThat(process.waitFor(10, SECONDS)).as("the broker died of SIGKILL").isTrue();
        }
    }

    /** Starts the jar on {@code dataDir} with free loopback ports and waits for /healthz. */
    private Broker startBroker(String name, Path dataDir) throws IOException, InterruptedException {
        Path jar = Path.of(System.getProperty("hoist.jar", "target/hoist.jar"));
        assertThat(jar).as("the broker jar (mvn package builds it)").isRegularFile();
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Path log = tmp.resolve("broker-" + name + ".log");
        for (int attempt = 1; ; attempt++) {
            int[] ports = freePorts();
            Path javaTmp = Files.createDirectories(tmp.resolve("java-tmp"));
            ProcessBuilder pb = new ProcessBuilder(java, "-Djava.io.tmpdir=" + javaTmp, "-jar", jar.toString(), "serve",
                    "--data-dir", dataDir.toString(),
                    "--grpc-port", Integer.toString(ports[0]),
                    "--http-port", Integer.toString(ports[1]),
                    // a slow machine must not expire the worker's session before the kill
                    "--session-timeout", "30s")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().keySet().removeIf(k -> k.startsWith("HOIST_"));
            Broker b = new Broker(name, pb.start(), ports[0], ports[1], log);
            brokers.add(b);
            try {
                await("broker " + name + " /healthz").atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO)
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> !b.process.isAlive() || b.healthy());
            } catch (ConditionTimeoutException e) {
                throw new AssertionError("broker " + name + " did not answer /healthz in 30 s; its log ends:\n" + tail(log), e);
            }
            if (b.process.isAlive()) {
                return b;
            }
            String tail = tail(log);
            String lower = tail.toLowerCase();
            if (attempt < 3 && (lower.contains("bind") || lower.contains("address already in use"))) {
                continue; // someone took a probed port before the broker bound it
            }
            throw new AssertionError("broker " + name + " exited with " + b.process.exitValue()
                    + " before /healthz answered; its log ends:\n" + tail);
        }
    }

    private static List<Path> nativeLibrariesIn(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("librocksdbjni")).toList();
        }
    }

    private static int[] freePorts() throws IOException {
        try (ServerSocket a = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             ServerSocket b = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return new int[] {a.getLocalPort(), b.getLocalPort()};
        }
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    interface Body {
        void run() throws Exception;
    }

    /** Runs a test body; if it fails, the failure carries the tail of every broker's log. */
    private void withBrokerLogsOnFailure(Body body) throws Exception {
        try {
            body.run();
        } catch (Throwable t) {
            for (Broker b : brokers) {
                t.addSuppressed(new AssertionError("log of broker " + b.name + " (" + b.log + "), last lines:\n" + tail(b.log)));
            }
            throw t;
        }
    }
}
