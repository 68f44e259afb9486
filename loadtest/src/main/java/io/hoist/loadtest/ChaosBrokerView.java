package io.hoist.loadtest;

import io.grpc.ManagedChannel;
import io.hoist.proto.v1.AdminServiceGrpc;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.ListJobsRequest;
import io.hoist.proto.v1.ListJobsResponse;
import io.hoist.proto.v1.ListQueuesRequest;
import io.hoist.proto.v1.QueueInfo;
import io.hoist.sdk.HoistClient;
import io.hoist.sdk.JobNotFoundException;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** What {@code chaos} asks the broker at the end: is the queue drained, and what became of each job. */
final class ChaosBrokerView {
    private final String target;
    private final String queue;

    ChaosBrokerView(String target, String queue) {
        this.target = target;
        this.queue = queue;
    }

    /**
     * Waits until the queue holds nothing SCHEDULED, READY or LEASED; false if {@code timeout}
     * passed first. {@code open} follows the count, for a progress bar.
     */
    boolean awaitDrained(Duration timeout, AtomicLong open) throws InterruptedException {
        ManagedChannel channel = Channels.open(target);
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                try {
                    QueueInfo q = AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                            .listQueues(ListQueuesRequest.getDefaultInstance()).getQueuesList().stream()
                            .filter(i -> i.getName().equals(queue)).findFirst().orElse(null);
                    if (q != null) {
                        open.set(q.getReady() + q.getScheduled() + q.getLeased());
                        if (open.get() == 0) return true;
                    }
                } catch (RuntimeException e) {
                    // the broker is still starting: ask again
                }
                Thread.sleep(200);
            }
            return false;
        } finally {
            Channels.close(channel);
        }
    }

    /** Every job of the queue by ListJobs, and GetJob (through the SDK) for each of {@code expected} not listed. */
    Map<String, Job> finalState(Collection<String> expected) {
        Map<String, Job> jobs = new HashMap<>();
        ManagedChannel channel = Channels.open(target);
        try {
            String page = "";
            do {
                ListJobsResponse r = AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                        .listJobs(ListJobsRequest.newBuilder().setQueue(queue).setState(JobState.JOB_STATE_UNSPECIFIED)
                                .setPageSize(1_000).setPageToken(page).build());
                r.getJobsList().forEach(j -> jobs.put(j.getId(), j));
                page = r.getNextPageToken();
            } while (!page.isEmpty());
        } finally {
            Channels.close(channel);
        }
        try (HoistClient client = HoistClient.builder().target(target).build()) {
            for (String id : expected) {
                if (!jobs.containsKey(id)) {
                    try {
                        jobs.put(id, client.getJob(id).toProto());
                    } catch (JobNotFoundException missing) {
                        // lost: the checker counts it
                    }
                }
            }
        }
        return jobs;
    }
}
