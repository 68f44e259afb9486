package io.hoist.loadtest;

import io.grpc.ManagedChannel;
import io.hoist.proto.v1.AckRequest;
import io.hoist.proto.v1.DeregisterRequest;
import io.hoist.proto.v1.JobAck;
import io.hoist.proto.v1.LeaseRequest;
import io.hoist.proto.v1.LeaseResponse;
import io.hoist.proto.v1.LeasedJob;
import io.hoist.proto.v1.RegisterRequest;
import io.hoist.proto.v1.WorkerServiceGrpc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the backlog scenario asks of a broker it has just restarted: the first leased job, and the recovery time it logged. */
final class RestartProbe {
    /** EngineLoop's INFO line at the end of its recovery: {@code recovered jobs=N sessions=N unique_keys=N in N ms}. */
    private static final Pattern RECOVERED = Pattern.compile("recovered jobs=(\\d+) .* in (\\d+) ms");

    private RestartProbe() {
    }

    /**
     * Registers a session on {@code queue} and leases until one job comes back (then acks it, so
     * the backlog is left as it was less one job); false if none came within {@code timeout}.
     */
    static boolean firstLease(String target, String queue, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        ManagedChannel channel = Channels.open(target);
        try {
            WorkerServiceGrpc.WorkerServiceBlockingStub stub = WorkerServiceGrpc.newBlockingStub(channel);
            String workerId = stub.withDeadlineAfter(30, TimeUnit.SECONDS)
                    .register(RegisterRequest.newBuilder().setName("loadtest-backlog-first-lease").addQueues(queue).build())
                    .getWorkerId();
            LeaseRequest lease = LeaseRequest.newBuilder().setWorkerId(workerId).addQueues(queue).setMaxJobs(1)
                    .setWait(Channels.millis(1_000)).build();
            while (System.nanoTime() < deadline) {
                LeaseResponse r = stub.withDeadlineAfter(30, TimeUnit.SECONDS).lease(lease);
                if (r.getJobsCount() > 0) {
                    LeasedJob j = r.getJobs(0);
                    stub.withDeadlineAfter(30, TimeUnit.SECONDS).ack(AckRequest.newBuilder().setWorkerId(workerId)
                            .addAcks(JobAck.newBuilder().setJobId(j.getJob().getId()).setLeaseToken(j.getLeaseToken())).build());
                    stub.withDeadlineAfter(30, TimeUnit.SECONDS).deregister(DeregisterRequest.newBuilder().setWorkerId(workerId).build());
                    return true;
                }
            }
            return false;
        } catch (RuntimeException e) {
            System.err.println("hoist-loadtest: the first lease after the restart failed: " + e);
            return false;
        } finally {
            Channels.close(channel);
        }
    }

    /** The broker's own account of its last recovery: jobs loaded and milliseconds taken; -1 each if not logged. */
    record Recovery(long jobs, long millis) {
        static final Recovery UNKNOWN = new Recovery(-1, -1);
    }

    /** The last {@code recovered jobs=...} line of the broker's log. */
    static Recovery loggedRecovery(Path log) {
        try {
            return lastRecovery(Files.readAllLines(log, StandardCharsets.ISO_8859_1)); // any byte reads
        } catch (IOException | RuntimeException e) {
            return Recovery.UNKNOWN;
        }
    }

    static Recovery lastRecovery(List<String> lines) {
        Recovery last = Recovery.UNKNOWN;
        for (String line : lines) {
            Matcher m = RECOVERED.matcher(line);
            if (m.find()) last = new Recovery(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
        }
        return last;
    }
}
