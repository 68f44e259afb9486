package io.hoist.broker.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.hoist.broker.engine.Command;
import io.hoist.broker.engine.Outcome;
import io.hoist.broker.runtime.EngineLoop;
import io.hoist.proto.v1.EnqueueStreamRequest;
import io.hoist.proto.v1.EnqueueStreamResponse;
import io.hoist.proto.v1.StreamError;

/**
 * One {@code EnqueueStream} call: each request is validated and submitted like a unary Enqueue,
 * and answered on the stream once the engine has made it durable (or with its error), so one
 * producer keeps many batches in flight on one HTTP/2 stream instead of paying for a call each.
 *
 * <p>Flow control: the broker asks the transport for at most {@link #WINDOW} unanswered requests,
 * and for one more per answer, so a fast producer is held back by HTTP/2 rather than by memory.
 * Answers come from the engine thread and errors from the transport's thread: sending is
 * serialised on {@code this}.
 */
final class EnqueueStream implements StreamObserver<EnqueueStreamRequest> {
    static final int WINDOW = 1024;

    private final EngineLoop loop;
    private final RequestValidator requests;
    private final ServerCallStreamObserver<EnqueueStreamResponse> out;
    private int unanswered;       // guarded by this
    private boolean halfClosed;   // guarded by this
    private boolean done;         // guarded by this

    private EnqueueStream(EngineLoop loop, RequestValidator requests, ServerCallStreamObserver<EnqueueStreamResponse> out) {
        this.loop = loop;
        this.requests = requests;
        this.out = out;
    }

    static StreamObserver<EnqueueStreamRequest> open(EngineLoop loop, RequestValidator requests,
                                                     StreamObserver<EnqueueStreamResponse> responses) {
        ServerCallStreamObserver<EnqueueStreamResponse> out = (ServerCallStreamObserver<EnqueueStreamResponse>) responses;
        out.disableAutoRequest();
        out.request(WINDOW);
        return new EnqueueStream(loop, requests, out);
    }

    @Override
    public void onNext(EnqueueStreamRequest req) {
        synchronized (this) {
            unanswered++;
        }
        long id = req.getRequestId();
        Command.Enqueue command;
        try {
            command = requests.enqueue(req.getJobsList());
        } catch (InvalidFieldException e) {
            answer(failed(id, StatusMapper.invalid(e)));
            return;
        }
        loop.submit(command).whenComplete((outcome, failure) -> {
            if (failure != null) {
                answer(failed(id, StatusMapper.failure(failure)));
            } else if (outcome instanceof Outcome.Rejected r) {
                answer(failed(id, StatusMapper.rejected(r)));
            } else {
                answer(EnqueueStreamResponse.newBuilder().setRequestId(id)
                        .addAllJobs(ProtoMapper.enqueued((Outcome.Enqueued) outcome).getJobsList()).build());
            }
        });
    }

    @Override
    public void onError(Throwable t) {
        synchronized (this) {
            done = true; // the client cancelled: answers still to come are dropped
        }
    }

    @Override
    public void onCompleted() {
        synchronized (this) {
            halfClosed = true;
            finishIfDone();
        }
    }

    private synchronized void answer(EnqueueStreamResponse response) {
        unanswered--;
        if (done || out.isCancelled()) {
            return;
        }
        out.onNext(response);
        if (halfClosed) {
            finishIfDone();
        } else {
            out.request(1);
        }
    }

    private void finishIfDone() {
        if (unanswered == 0 && !done) {
            done = true;
            out.onCompleted();
        }
    }

    private static EnqueueStreamResponse failed(long id, StatusRuntimeException e) {
        return EnqueueStreamResponse.newBuilder().setRequestId(id).setError(streamError(e)).build();
    }

    /** The status a unary call would have failed with, as a message on the stream. */
    static StreamError streamError(StatusRuntimeException e) {
        StreamError.Builder error = StreamError.newBuilder().setCode(e.getStatus().getCode().value())
                .setMessage(e.getStatus().getDescription() == null ? "" : e.getStatus().getDescription());
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status != null) {
            for (com.google.protobuf.Any detail : status.getDetailsList()) {
                if (detail.is(ErrorInfo.class)) {
                    try {
                        ErrorInfo info = detail.unpack(ErrorInfo.class);
                        error.setReason(info.getReason()).setField(info.getMetadataOrDefault("field", ""));
                    } catch (InvalidProtocolBufferException ignored) {
                        // packed by StatusMapper, so it unpacks; without it the code and message remain
                    }
                }
            }
        }
        return error.build();
    }
}
