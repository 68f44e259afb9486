package io.hoist.broker.grpc;

import io.grpc.stub.StreamObserver;
import io.hoist.broker.engine.Outcome;
import io.hoist.proto.v1.AdminServiceGrpc;
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

/** AdminService: what operators, the CLI and the dashboard call. */
public final class AdminGrpcService extends AdminServiceGrpc.AdminServiceImplBase {
    private final EngineCalls calls;
    private final RequestValidator requests;

    AdminGrpcService(EngineCalls calls, RequestValidator requests) {
        this.calls = calls;
        this.requests = requests;
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
