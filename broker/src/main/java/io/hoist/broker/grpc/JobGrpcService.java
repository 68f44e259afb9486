package io.hoist.broker.grpc;

import io.grpc.stub.StreamObserver;
import io.hoist.broker.engine.Outcome;
import io.hoist.broker.runtime.EngineLoop;
import io.hoist.proto.v1.CancelJobRequest;
import io.hoist.proto.v1.CancelJobResponse;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.EnqueueResponse;
import io.hoist.proto.v1.EnqueueStreamRequest;
import io.hoist.proto.v1.EnqueueStreamResponse;
import io.hoist.proto.v1.GetJobRequest;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobServiceGrpc;

/** JobService: what producers call. */
public final class JobGrpcService extends JobServiceGrpc.JobServiceImplBase {
    private final EngineCalls calls;
    private final RequestValidator requests;
    private final EngineLoop loop;

    JobGrpcService(EngineCalls calls, RequestValidator requests, EngineLoop loop) {
        this.calls = calls;
        this.requests = requests;
        this.loop = loop;
    }

    @Override
    public void enqueue(EnqueueRequest req, StreamObserver<EnqueueResponse> out) {
        calls.call(out, () -> requests.enqueue(req), Outcome.Enqueued.class, ProtoMapper::enqueued);
    }

    @Override
    public StreamObserver<EnqueueStreamRequest> enqueueStream(StreamObserver<EnqueueStreamResponse> out) {
        return EnqueueStream.open(loop, requests, out);
    }

    @Override
    public void getJob(GetJobRequest req, StreamObserver<Job> out) {
        calls.call(out, () -> requests.getJob(req), Outcome.JobFound.class, ProtoMapper::job);
    }

    @Override
    public void cancelJob(CancelJobRequest req, StreamObserver<CancelJobResponse> out) {
        calls.call(out, () -> requests.cancelJob(req), Outcome.Canceled.class, ProtoMapper::canceled);
    }
}
