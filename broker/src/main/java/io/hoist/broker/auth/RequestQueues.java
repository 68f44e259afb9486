package io.hoist.broker.auth;

import io.hoist.proto.v1.CreateCheckpointRequest;
import io.hoist.proto.v1.DeleteDeadRequest;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.EnqueueStreamRequest;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.ListJobsRequest;
import io.hoist.proto.v1.PurgeQueueRequest;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.RequeueDeadRequest;
import io.hoist.proto.v1.UpdateQueueRequest;
import io.hoist.proto.v1.WorkerStreamRequest;

import java.util.List;

/**
 * The queues a request names, for tokens limited to some queues. Calls that name a job or a
 * worker session instead (GetJob, CancelJob, Heartbeat, Ack, Nack, Deregister) and the listings
 * name none; a Lease without queues uses those its session registered, which were checked then.
 */
final class RequestQueues {
    private RequestQueues() {
    }

    static List<String> named(Object request) {
        if (request instanceof EnqueueRequest r) {
            return r.getJobsList().stream().map(JobSpec::getQueue).distinct().toList();
        } else if (request instanceof EnqueueStreamRequest r) {
            return r.getJobsList().stream().map(JobSpec::getQueue).distinct().toList(); // each message of the stream
        } else if (request instanceof RegisterRequest r) {
            return r.getQueuesList();
        } else if (request instanceof LeaseRequest r) {
            return r.getQueuesList();
        } else if (request instanceof WorkerStreamRequest r) {
            return r.getQueuesList(); // named by the first message; the stream reads no later ones
        } else if (request instanceof UpdateQueueRequest r) {
            return List.of(r.getName());
        } else if (request instanceof PurgeQueueRequest r) {
            return List.of(r.getName());
        } else if (request instanceof ListJobsRequest r) {
            return List.of(r.getQueue());
        } else if (request instanceof RequeueDeadRequest r) {
            return List.of(r.getQueue());
        } else if (request instanceof DeleteDeadRequest r) {
            return List.of(r.getQueue());
        }
        return List.of();
    }

    /** Calls that reach every queue's jobs at once, refused to a token limited to some queues. */
    static boolean reachesEveryQueue(Object request) {
        return request instanceof CreateCheckpointRequest;
    }
}
