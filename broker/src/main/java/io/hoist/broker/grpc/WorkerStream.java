package io.hoist.broker.grpc;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.hoist.broker.engine.Command;
import io.hoist.broker.engine.Outcome;
import io.hoist.broker.runtime.EngineLoop;
import io.hoist.proto.v1.WorkerStreamAcks;
import io.hoist.proto.v1.WorkerStreamRequest;
import io.hoist.proto.v1.WorkerStreamResponse;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One {@code WorkerStream} call: the worker's unused credits are kept as one long-poll Lease in
 * the engine at a time (for all of them), whose jobs are pushed down the stream as it answers;
 * acks are submitted like Ack calls and answered on the stream. Acks and credits of one message
 * reach the engine in that order, so the slots an ack frees are there for the lease after it.
 *
 * <p>Ends with a status where a Lease call would fail: an invalid first message or credits
 * (INVALID_ARGUMENT), a session that is gone (NOT_FOUND), a broker shutting down (UNAVAILABLE).
 * A half-close stops leasing; jobs already leased are still sent, then the stream ends once its
 * acks are answered.
 *
 * <p>Requests arrive one at a time on the transport's thread; answers come from the engine
 * thread. State and sending are guarded by {@code this}. Flow control: at most {@link #WINDOW}
 * requests are asked of the transport ahead, one more once an earlier one is answered.
 */
final class WorkerStream implements StreamObserver<WorkerStreamRequest> {
    static final int WINDOW = 256;
    /** How long one parked lease waits in the engine before the stream parks a fresh one. */
    static final long PARK_MILLIS = 30_000;

    private final EngineLoop loop;
    private final RequestValidator requests;
    private final ServerCallStreamObserver<WorkerStreamResponse> out;
    private final Set<WorkerStream> open;
    private String workerId;             // from the first message
    private List<String> queues;
    private int credits;
    private CompletableFuture<Outcome> lease; // the lease in the engine, or null
    private int unansweredAcks;
    private boolean halfClosed;
    private boolean done;

    private WorkerStream(EngineLoop loop, RequestValidator requests, Set<WorkerStream> open,
                         ServerCallStreamObserver<WorkerStreamResponse> out) {
        this.loop = loop;
        this.requests = requests;
        this.open = open;
        this.out = out;
    }

    /** @param open the open streams, which this one joins until it ends */
    static StreamObserver<WorkerStreamRequest> open(EngineLoop loop, RequestValidator requests, Set<WorkerStream> open,
                                                    StreamObserver<WorkerStreamResponse> responses) {
        ServerCallStreamObserver<WorkerStreamResponse> out = (ServerCallStreamObserver<WorkerStreamResponse>) responses;
        WorkerStream stream = new WorkerStream(loop, requests, open, out);
        open.add(stream);
        out.disableAutoRequest();
        out.setOnCancelHandler(stream::closed);
        out.setOnCloseHandler(stream::closed); // also when an interceptor closed the call before any message
        out.request(WINDOW);
        return stream;
    }

    @Override
    public synchronized void onNext(WorkerStreamRequest req) {
        if (done) {
            return;
        }
        try {
            if (workerId == null) {
                requests.workerStreamOpen(req);
                workerId = req.getWorkerId();
                queues = List.copyOf(req.getQueuesList());
            }
            credits = requests.credits(req.getCredits(), credits);
        } catch (InvalidFieldException e) {
            end(StatusMapper.invalid(e));
            return;
        }
        if (req.getAcksCount() > 0) {
            submitAcks(req);
        } else {
            out.request(1);
        }
        leaseIfCredited();
    }

    /** Bad acks fail only their own request, as they would fail only their own Ack call. */
    private void submitAcks(WorkerStreamRequest req) {
        long id = req.getRequestId();
        unansweredAcks++;
        Command.Ack acks;
        try {
            acks = requests.ack(workerId, req.getAcksList());
        } catch (InvalidFieldException e) {
            acked(id, null, e);
            return;
        }
        loop.submit(acks).whenComplete((outcome, failure) -> acked(id, outcome, failure));
    }

    @Override
    public void onError(Throwable t) {
        closed();
    }

    @Override
    public synchronized void onCompleted() {
        halfClosed = true;
        unpark();
        finishIfDone();
    }

    /** The call is over (cancelled by the client, or closed): answers still to come are dropped. */
    private synchronized void closed() {
        finished(); // jobs leased meanwhile go back when the session ends
        unpark();
    }

    /** The broker is shutting down and its engine has stopped: nothing more will be answered. */
    synchronized void shutDown() {
        if (!done) {
            end(StatusMapper.rejected(new Outcome.Rejected(Outcome.Reason.SHUTTING_DOWN, "the broker is shutting down")));
        }
    }

    /** Parks one lease for all unused credits, unless one is in the engine already. */
    private void leaseIfCredited() {
        if (lease != null || credits == 0 || halfClosed || done) {
            return;
        }
        CompletableFuture<Outcome> ticket = new CompletableFuture<>();
        lease = ticket;
        loop.submit(new Command.Lease(workerId, queues, credits, PARK_MILLIS, ticket), ticket)
                .whenComplete((outcome, failure) -> leased(ticket, outcome, failure));
    }

    private synchronized void leased(CompletableFuture<Outcome> ticket, Outcome outcome, Throwable failure) {
        if (lease == ticket) {
            lease = null;
        }
        if (done) {
            return;
        }
        if (failure != null) {
            end(StatusMapper.failure(failure));
        } else if (outcome instanceof Outcome.Rejected r) {
            end(StatusMapper.rejected(r)); // the session is gone, or the broker is shutting down
        } else {
            Outcome.Leased jobs = (Outcome.Leased) outcome;
            if (!jobs.jobs().isEmpty()) {
                credits -= jobs.jobs().size();
                out.onNext(WorkerStreamResponse.newBuilder().setLeased(ProtoMapper.leased(jobs)).build());
            }
            leaseIfCredited(); // an empty answer: the wait ran out (park again), or the session ended (NOT_FOUND next)
            finishIfDone();
        }
    }

    private synchronized void acked(long requestId, Outcome outcome, Throwable failure) {
        unansweredAcks--;
        if (done) {
            return;
        }
        WorkerStreamAcks.Builder answer = WorkerStreamAcks.newBuilder().setRequestId(requestId);
        if (failure != null) {
            answer.setError(EnqueueStream.streamError(StatusMapper.failure(failure)));
        } else if (outcome instanceof Outcome.Rejected r) {
            answer.setError(EnqueueStream.streamError(StatusMapper.rejected(r)));
        } else {
            answer.addAllResults(ProtoMapper.acked((Outcome.Acked) outcome).getResultsList());
        }
        out.onNext(WorkerStreamResponse.newBuilder().setAcked(answer).build());
        if (halfClosed) {
            finishIfDone();
        } else {
            out.request(1);
        }
    }

    /** Ends the lease in the engine early: it answers empty, unless it has already answered. */
    private void unpark() {
        if (lease != null) {
            loop.submit(new Command.Unpark(lease));
        }
    }

    private void finishIfDone() {
        if (halfClosed && !done && lease == null && unansweredAcks == 0) {
            finished();
            out.onCompleted();
        }
    }

    private void end(StatusRuntimeException status) {
        finished();
        unpark();
        out.onError(status);
    }

    private void finished() {
        done = true;
        open.remove(this);
    }
}
