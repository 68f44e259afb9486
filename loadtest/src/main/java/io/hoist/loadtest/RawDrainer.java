package io.hoist.loadtest;

import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.ManagedChannel;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.AckResponse;
import io.hoist.proto.v1.AckResult;
import io.hoist.proto.v1.DeregisterRequest;
import io.hoist.proto.v1.JobAck;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.LeaseResponse;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.WorkerServiceGrpc;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * W2 with raw RPCs, the floor under what any SDK can do: each consumer registers, then loops Lease
 * (up to {@code inFlight} jobs) and one Ack call holding a JobAck for each job of the answer. The
 * next Lease goes out on the same connection without waiting for the Ack's answer (the broker
 * applies the two in that order, so the acked jobs' slots are free again), and up to
 * {@link #MAX_ACKS_IN_FLIGHT} Acks go unanswered: like the SDK, and like the peers' clients, a
 * consumer gives a slot back when it sends the ack, while a job counts only once the broker has
 * accepted its ack. No heartbeats: every Lease and Ack carries the worker id, which renews the
 * session, and each job is acked long before its lease could expire.
 */
final class RawDrainer extends Drainer {
    private static final long LEASE_WAIT_MS = 500;
    /** Acks sent and not yet answered, per consumer (the peers' clients do not wait for theirs at all). */
    private static final int MAX_ACKS_IN_FLIGHT = 8;

    private final AtomicReference<Throwable> firstError = new AtomicReference<>();

    RawDrainer(String target, String queue, int consumers, int inFlight) {
        super(target, queue, consumers, inFlight);
    }

    @Override
    protected void drain(long jobs, long deadlineNanos) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < consumers; i++) {
            int index = i;
            Thread t = new Thread(() -> consume(index, jobs, deadlineNanos), "loadtest-raw-consumer-" + i);
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) t.join();
        if (firstError.get() != null) System.err.println("hoist-loadtest: raw consumer failed: " + firstError.get());
    }

    private void consume(int index, long jobs, long deadline) {
        ManagedChannel channel = Channels.open(target);
        WorkerServiceGrpc.WorkerServiceBlockingStub stub = WorkerServiceGrpc.newBlockingStub(channel);
        WorkerServiceGrpc.WorkerServiceFutureStub acks = WorkerServiceGrpc.newFutureStub(channel);
        String workerId = null;
        Deque<ListenableFuture<AckResponse>> pending = new ArrayDeque<>();
        try {
            workerId = stub.withDeadlineAfter(10, TimeUnit.SECONDS).register(RegisterRequest.newBuilder()
                    .setName("loadtest-raw-" + index).addQueues(queue).setConcurrency(inFlight).build()).getWorkerId();
            LeaseRequest lease = LeaseRequest.newBuilder().setWorkerId(workerId).addQueues(queue)
                    .setMaxJobs(inFlight).setWait(Channels.millis(LEASE_WAIT_MS)).build();
            while (acked() < jobs && System.nanoTime() < deadline) {
                LeaseResponse leased = stub.withDeadlineAfter(LEASE_WAIT_MS + 10_000, TimeUnit.MILLISECONDS).lease(lease);
                if (leased.getJobsCount() == 0) {
                    awaitAll(pending); // failures surface here
                    continue;
                }
                AckRequest.Builder ack = AckRequest.newBuilder().setWorkerId(workerId);
                for (LeasedJob j : leased.getJobsList()) {
                    ack.addAcks(JobAck.newBuilder().setJobId(j.getJob().getId()).setLeaseToken(j.getLeaseToken()));
                }
                if (pending.size() == MAX_ACKS_IN_FLIGHT) {
                    pending.poll().get();
                }
                pending.add(send(acks, ack.build()));
            }
            awaitAll(pending);
        } catch (RuntimeException | ExecutionException e) {
            firstError.compareAndSet(null, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            deregister(stub, workerId);
            Channels.close(channel);
        }
    }

    private static void awaitAll(Deque<ListenableFuture<AckResponse>> pending)
            throws ExecutionException, InterruptedException {
        while (!pending.isEmpty()) {
            pending.poll().get();
        }
    }

    /** Sends an Ack whose jobs count the moment its answer comes, not when the loop next looks. */
    private ListenableFuture<AckResponse> send(WorkerServiceGrpc.WorkerServiceFutureStub acks, AckRequest ack) {
        ListenableFuture<AckResponse> call = acks.withDeadlineAfter(10, TimeUnit.SECONDS).ack(ack);
        call.addListener(() -> {
            try {
                count(Futures.getDone(call));
            } catch (ExecutionException e) {
                firstError.compareAndSet(null, e.getCause());
            }
        }, MoreExecutors.directExecutor());
        return call;
    }

    private void count(AckResponse answer) {
        for (AckResult r : answer.getResultsList()) {
            if (r.getOutcomeValue() == io.hoist.proto.v1.AckOutcome.ACK_OUTCOME_ACKED_VALUE) {
                ackAccepted();
            } else {
                ackRefused();
            }
        }
    }

    /** Hands back anything still held (nothing, normally), so no job waits out a lease. */
    private static void deregister(WorkerServiceGrpc.WorkerServiceBlockingStub stub, String workerId) {
        if (workerId == null) return;
        try {
            stub.withDeadlineAfter(5, TimeUnit.SECONDS).deregister(DeregisterRequest.newBuilder().setWorkerId(workerId).build());
        } catch (RuntimeException e) {
            System.err.println("hoist-loadtest: deregister failed: " + e);
        }
    }
}
