package io.hoist.sdk.internal;

import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.sdk.JsonCodec;

import java.time.Instant;

/** Running jobs for tests: a delivery of queue q, type t, to session w1, whose lease always extends. */
final class RunningJobFixture {
    private RunningJobFixture() {
    }

    static RunningJob delivery(String jobId, String leaseToken) {
        return new RunningJob(LeasedJob.newBuilder().setLeaseToken(leaseToken).setJob(Job.newBuilder().setId(jobId)
                .setSpec(JobSpec.newBuilder().setQueue("q").setType("t"))).build(), "w1", new JsonCodec(), new LeaseKeeper() {
                    @Override
                    public boolean extendNow(RunningJob j) {
                        return true;
                    }

                    @Override
                    public void beatSoon() {
                    }
                }, Instant.now());
    }
}
