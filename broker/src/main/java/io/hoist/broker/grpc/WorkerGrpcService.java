package io.hoist.broker.grpc;

import io.grpc.stub.StreamObserver;
import io.hoist.broker.engine.Outcome;
import io.hoist.broker.runtime.EngineLoop;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.AckResponse;
import io.hoist.proto.v1.DeregisterRequest;
import io.hoist.proto.v1.DeregisterResponse;
import io.hoist.proto.v1.HeartbeatRequest;
import io.hoist.proto.v1.HeartbeatResponse;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.LeaseResponse;
import io.hoist.proto.v1.NackRequest;
import io.hoist.proto.v1.NackResponse;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.RegisterResponse;
import io.hoist.proto.v1.WorkerServiceGrpc;
import io.hoist.proto.v1.WorkerStreamRequest;
import io.hoist.proto.v1.WorkerStreamResponse;

import java.util.Set;

/** WorkerService: what workers call. */
public final class WorkerGrpcService extends WorkerServiceGrpc.WorkerServiceImplBase {
    private final EngineCalls calls;
    private final EngineLoop loop;
    private final Set<WorkerStream> streams; // open ones, ended at shutdown
    private final RequestValidator requests;
    private final RegisterResponse sessionTerms;

    WorkerGrpcService(EngineCalls calls, EngineLoop loop, RequestValidator requests, Set<WorkerStream> streams,
                      long heartbeatIntervalMillis, long sessionTimeoutMillis) {
        this.calls = calls;
        this.loop = loop;
        this.streams = streams;
        this.requests = requests;
        this.sessionTerms = RegisterResponse.newBuilder()
                .setHeartbeatInterval(ProtoMapper.duration(heartbeatIntervalMillis))
                .setSessionTimeout(ProtoMapper.duration(sessionTimeoutMillis))
                .build();
    }

    @Override
    public void register(RegisterRequest req, StreamObserver<RegisterResponse> out) {
        calls.call(out, () -> requests.register(req), Outcome.Registered.class,
                r -> sessionTerms.toBuilder().setWorkerId(r.workerId()).build());
    }

    @Override
    public void heartbeat(HeartbeatRequest req, StreamObserver<HeartbeatResponse> out) {
        calls.call(out, () -> requests.heartbeat(req), Outcome.HeartbeatAnswer.class, ProtoMapper::heartbeat);
    }

    @Override
    public void lease(LeaseRequest req, StreamObserver<LeaseResponse> out) {
        calls.lease(out, ticket -> requests.lease(req, ticket), Outcome.Leased.class, ProtoMapper::leased);
    }

    @Override
    public void ack(AckRequest req, StreamObserver<AckResponse> out) {
        calls.call(out, () -> requests.ack(req), Outcome.Acked.class, ProtoMapper::acked);
    }

    @Override
    public void nack(NackRequest req, StreamObserver<NackResponse> out) {
        calls.call(out, () -> requests.nack(req), Outcome.Nacked.class, ProtoMapper::nacked);
    }

    @Override
    public void deregister(DeregisterRequest req, StreamObserver<DeregisterResponse> out) {
        calls.call(out, () -> requests.deregister(req), Outcome.Deregistered.class, ProtoMapper::deregistered);
    }

    @Override
    public StreamObserver<WorkerStreamRequest> workerStream(StreamObserver<WorkerStreamResponse> out) {
        return WorkerStream.open(loop, requests, streams, out);
    }
}
