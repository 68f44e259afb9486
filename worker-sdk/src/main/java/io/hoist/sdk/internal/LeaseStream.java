package io.hoist.sdk.internal;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.AckResponse;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.WorkerServiceGrpc;
import io.hoist.proto.v1.WorkerStreamAcks;
import io.hoist.proto.v1.WorkerStreamRequest;
import io.hoist.proto.v1.WorkerStreamResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The worker's end of its WorkerStream: the lease loop {@link #grant}s credits (opening the stream
 * at the first grant of a session), the broker pushes jobs, which go to the {@link Dispatcher} on
 * the transport's thread, and the {@link AckSender} sends acks up the same stream while it is
 * open. When a stream ends, its unused credits free their slots, its unanswered acks fail with
 * its status, and the next grant throws that status once, for the lease loop to handle
 * (register again, fail over, back off) before a new stream opens. Thread-safe.
 */
final class LeaseStream {
    private static final Logger log = LoggerFactory.getLogger(LeaseStream.class);
    /** A stream stayed open this long without a word from the broker: it worked (the worker was idle). */
    private static final long WORKED_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final BrokerConnection connection;
    private final WorkerSession session;
    private final RunningJobs jobs;
    private final Dispatcher dispatcher;
    private final List<String> queues;

    /** How a stream failed, thrown once by the next {@link #grant}. */
    static final class Ended extends RuntimeException {
        final StatusRuntimeException status;
        /** The session the stream leased for (a NOT_FOUND is about that one, not a session registered since). */
        final String workerId;
        final Channel channel;
        /** The stream heard from the broker, or stayed open a while: the failure is a new one, not a retry's. */
        final boolean worked;

        Ended(StatusRuntimeException status, String workerId, Channel channel, boolean worked) {
            super(status.getMessage(), status, false, false);
            this.status = status;
            this.workerId = workerId;
            this.channel = channel;
            this.worked = worked;
        }
    }

    private Call call;    // the open stream, or null; guarded by this
    private Ended ended;  // how the last stream failed, not yet handled; guarded by this

    LeaseStream(BrokerConnection connection, WorkerSession session, RunningJobs jobs, Dispatcher dispatcher,
                List<String> queues) {
        this.connection = connection;
        this.session = session;
        this.jobs = jobs;
        this.dispatcher = dispatcher;
        this.queues = queues;
    }

    /**
     * Grants {@code credits} more jobs to session {@code workerId}'s stream, opening one if there
     * is none (or it belongs to a replaced session).
     *
     * @throws Ended how the last stream failed, once
     */
    synchronized void grant(String workerId, int credits) {
        if (ended != null) {
            Ended e = ended;
            ended = null;
            throw e;
        }
        if (call != null && !call.workerId.equals(workerId)) {
            call.halfClose();
            call = null;
        }
        jobs.reserve(credits);
        log.debug("granting {} credits to worker={} ({})", credits, workerId, call == null ? "new stream" : "open stream");
        if (call == null) {
            // the current call before it starts: a call that fails at once ends on this thread, inside start
            call = new Call(workerId);
            call.start(WorkerStreamRequest.newBuilder().setWorkerId(workerId).addAllQueues(queues).setCredits(credits), credits);
        } else {
            call.send(WorkerStreamRequest.newBuilder().setCredits(credits), credits);
        }
    }

    /** Acks sent on a stream: their answer (failed with the stream's status if it ends first), and the stream's channel. */
    record SentAcks(CompletableFuture<AckResponse> answer, Channel channel) {
    }

    /**
     * Sends acks on the open stream of their session, or answers null if there is no such stream
     * (send them with an Ack call then).
     */
    synchronized SentAcks ack(AckRequest req) {
        if (call == null || !call.workerId.equals(req.getWorkerId())) {
            return null;
        }
        return new SentAcks(call.ack(req), call.channel);
    }

    /** Leasing stops: the broker sends what it has leased, answers the acks on their way, then ends the stream. */
    synchronized void close() {
        if (call != null) {
            call.halfClose();
            call = null;
        }
        ended = null;
    }

    /** One stream. Its callbacks run on the transport's thread, one at a time; sending is under the LeaseStream's lock. */
    private final class Call implements StreamObserver<WorkerStreamResponse> {
        final String workerId;
        final Channel channel;
        private final WorkerServiceGrpc.WorkerServiceStub stub;
        private final long openedNanos = System.nanoTime();
        private volatile boolean heard;
        private StreamObserver<WorkerStreamRequest> requests; // guarded by LeaseStream.this
        private final Map<Long, CompletableFuture<AckResponse>> unanswered = new HashMap<>(); // guarded by LeaseStream.this
        private int unused;        // credits granted and not yet used; guarded by LeaseStream.this
        private long nextRequestId; // guarded by LeaseStream.this

        Call(String workerId) {
            this.workerId = workerId;
            this.stub = connection.workerStreaming().withExecutor(Runnable::run); // pushes go to the Dispatcher at once
            this.channel = stub.getChannel();
        }

        void start(WorkerStreamRequest.Builder first, int credits) {
            unused += credits;
            requests = stub.workerStream(this);
            requests.onNext(first.build());
        }

        void send(WorkerStreamRequest.Builder req, int credits) {
            unused += credits;
            requests.onNext(req.build());
        }

        CompletableFuture<AckResponse> ack(AckRequest req) {
            long id = nextRequestId++;
            CompletableFuture<AckResponse> answer = new CompletableFuture<>();
            unanswered.put(id, answer);
            requests.onNext(WorkerStreamRequest.newBuilder().setRequestId(id).addAllAcks(req.getAcksList()).build());
            return answer;
        }

        /** Called once: the stream stops being the current one at the same time. */
        void halfClose() {
            requests.onCompleted();
        }

        @Override
        public void onNext(WorkerStreamResponse response) {
            heard = true;
            connection.reachable();
            if (response.hasLeased()) {
                pushed(response.getLeased().getJobsList());
            } else {
                answered(response.getAcked());
            }
        }

        private void pushed(List<LeasedJob> leased) {
            synchronized (LeaseStream.this) {
                unused -= leased.size();
            }
            if (!workerId.equals(session.workerId())) {
                // leased under a session replaced meanwhile: the broker released them with it
                log.debug("{} jobs leased under the replaced session worker={} not started", leased.size(), workerId);
                jobs.unreserve(leased.size());
                return;
            }
            Instant receivedAt = Instant.now();
            for (LeasedJob j : leased) {
                dispatcher.dispatch(j, workerId, receivedAt);
            }
        }

        private void answered(WorkerStreamAcks acks) {
            CompletableFuture<AckResponse> answer;
            synchronized (LeaseStream.this) {
                answer = unanswered.remove(acks.getRequestId());
            }
            if (answer == null) {
                return;
            }
            if (acks.hasError()) {
                answer.completeExceptionally(StatusErrors.fromStreamError(acks.getError()));
            } else {
                answer.complete(AckResponse.newBuilder().addAllResults(acks.getResultsList()).build());
            }
        }

        @Override
        public void onError(Throwable t) {
            over(Status.fromThrowable(t).asRuntimeException(Status.trailersFromThrowable(t)));
        }

        @Override
        public void onCompleted() {
            over(null);
        }

        private void over(StatusRuntimeException status) {
            log.debug("lease stream of worker={} ended: {}", workerId, status == null ? "completed" : status.getStatus());
            List<CompletableFuture<AckResponse>> failed;
            int freed;
            boolean worked = heard || System.nanoTime() - openedNanos >= WORKED_NANOS;
            synchronized (LeaseStream.this) {
                // at once with the end, so that no grant goes to this stream after its credits are counted
                failed = List.copyOf(unanswered.values());
                unanswered.clear();
                freed = unused;
                unused = 0;
                if (call == this) {
                    call = null;
                    ended = status == null ? null : new Ended(status, workerId, channel, worked);
                }
            }
            jobs.unreserve(freed); // wakes the lease loop, which then learns of the end
            // the stream's end is not the acks' answer: they may or may not have been applied, and
            // sending them again is harmless (the same token is ACKED again); a session that is gone
            // does not refuse them either, as acks are judged by job and token alone
            StatusRuntimeException cause = status != null && StatusErrors.isTransient(status) ? status
                    : Status.UNKNOWN.withDescription("the lease stream ended (" + (status == null ? "completed" : status.getStatus())
                            + ") before answering these acks").asRuntimeException();
            failed.forEach(f -> f.completeExceptionally(cause));
        }
    }
}
