package io.hoist.broker.grpc;

import io.grpc.stub.StreamObserver;
import io.hoist.broker.engine.Outcome;
import io.hoist.broker.store.Store;
import io.hoist.proto.v1.AdminServiceGrpc;
import io.hoist.proto.v1.CreateCheckpointRequest;
import io.hoist.proto.v1.CreateCheckpointResponse;
import io.hoist.proto.v1.DeleteDeadRequest;
import io.hoist.proto.v1.DeleteDeadResponse;
import io.hoist.proto.v1.ListJobsRequest;
import io.hoist.proto.v1.ListJobsResponse;
import io.hoist.proto.v1.ListQueuesRequest;
import io.hoist.proto.v1.ListQueuesResponse;
import io.hoist.proto.v1.ListWorkersRequest;
import io.hoist.proto.v1.ListWorkersResponse;
import io.hoist.proto.v1.PurgeQueueRequest;
import io.hoist.proto.v1.PurgeQueueResponse;
import io.hoist.proto.v1.QueueInfo;
import io.hoist.proto.v1.RequeueDeadRequest;
import io.hoist.proto.v1.RequeueDeadResponse;
import io.hoist.proto.v1.UpdateQueueRequest;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/** AdminService: what operators, the CLI and the dashboard call. */
public final class AdminGrpcService extends AdminServiceGrpc.AdminServiceImplBase {
    private final EngineCalls calls;
    private final RequestValidator requests;
    private final Store store;

    AdminGrpcService(EngineCalls calls, RequestValidator requests, Store store) {
        this.calls = calls;
        this.requests = requests;
        this.store = store;
    }

    /** Not an engine command: RocksDB makes the copy consistent by itself, off the engine thread. */
    @Override
    public void createCheckpoint(CreateCheckpointRequest req, StreamObserver<CreateCheckpointResponse> out) {
        Path target;
        try {
            target = RequestValidator.checkpointPath(req.getPath());
        } catch (InvalidFieldException e) {
            out.onError(StatusMapper.invalid(e));
            return;
        }
        CompletableFuture.supplyAsync(() -> store.checkpoint(target)).whenComplete((size, failure) -> {
            if (failure != null) {
                out.onError(StatusMapper.failure(failure));
            } else {
                out.onNext(CreateCheckpointResponse.newBuilder().setPath(target.toString()).setSizeBytes(size).build());
                out.onCompleted();
            }
        });
    }

    @Override
    public void listQueues(ListQueuesRequest req, StreamObserver<ListQueuesResponse> out) {
        calls.call(out, () -> requests.listQueues(req), Outcome.Queues.class, ProtoMapper::queues);
    }

    @Override
    public void updateQueue(UpdateQueueRequest req, StreamObserver<QueueInfo> out) {
        calls.call(out, () -> requests.updateQueue(req), Outcome.Queue.class, ProtoMapper::queueInfo);
    }

    @Override
    public void purgeQueue(PurgeQueueRequest req, StreamObserver<PurgeQueueResponse> out) {
        calls.call(out, () -> requests.purgeQueue(req), Outcome.Count.class,
                c -> PurgeQueueResponse.newBuilder().setRemoved(c.count()).build());
    }

    @Override
    public void listJobs(ListJobsRequest req, StreamObserver<ListJobsResponse> out) {
        calls.call(out, () -> requests.listJobs(req), Outcome.Jobs.class, ProtoMapper::jobs);
    }

    @Override
    public void requeueDead(RequeueDeadRequest req, StreamObserver<RequeueDeadResponse> out) {
        calls.call(out, () -> requests.requeueDead(req), Outcome.Count.class,
                c -> RequeueDeadResponse.newBuilder().setRequeued(c.count()).build());
    }

    @Override
    public void deleteDead(DeleteDeadRequest req, StreamObserver<DeleteDeadResponse> out) {
        calls.call(out, () -> requests.deleteDead(req), Outcome.Count.class,
                c -> DeleteDeadResponse.newBuilder().setDeleted(c.count()).build());
    }

    @Override
    public void listWorkers(ListWorkersRequest req, StreamObserver<ListWorkersResponse> out) {
        calls.call(out, () -> requests.listWorkers(req), Outcome.Workers.class, ProtoMapper::workers);
    }
}
