package io.hoist.broker.cli;

import com.google.protobuf.Timestamp;
import io.hoist.proto.v1.DeleteDeadRequest;
import io.hoist.proto.v1.DeleteDeadResponse;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.ListJobsRequest;
import io.hoist.proto.v1.ListJobsResponse;
import io.hoist.proto.v1.RequeueDeadRequest;
import io.hoist.proto.v1.RequeueDeadResponse;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code hoist dlq list|requeue|delete --queue NAME [ID…]}: the dead-letter queue. */
@Command(name = "dlq", mixinStandardHelpOptions = true,
        description = "Inspects and redrives the dead-letter queue: jobs that used up their attempts or failed for good.",
        subcommands = {DlqCommand.List.class, DlqCommand.Requeue.class, DlqCommand.Delete.class})
final class DlqCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists a queue's DEAD jobs, oldest first, with why they died.")
    static final class List implements Callable<Integer> {
        @Mixin
        BrokerConnection broker;
        @Option(names = "--queue", required = true, paramLabel = "NAME", description = "The queue.")
        String queue;
        @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "Most jobs shown. Default: ${DEFAULT-VALUE}")
        int limit;

        @Override
        public Integer call() {
            return broker.call(() -> {
                java.util.List<Job> dead = new ArrayList<>();
                String token = "";
                do {
                    ListJobsResponse page = broker.admin().listJobs(ListJobsRequest.newBuilder().setQueue(queue)
                            .setState(JobState.JOB_STATE_DEAD).setPageSize(Math.min(limit - dead.size(), 1_000))
                            .setPageToken(token).build());
                    dead.addAll(page.getJobsList());
                    token = page.getNextPageToken();
                } while (!token.isEmpty() && dead.size() < limit);
                if (broker.json) {
                    broker.printJson(ListJobsResponse.newBuilder().addAllJobs(dead).setNextPageToken(token).build());
                    return;
                }
                Table t = new Table("JOB", "TYPE", "ATTEMPTS", "REASON", "DIED", "LAST ERROR");
                for (Job j : dead) {
                    t.row(j.getId(), j.getSpec().getType(), j.getAttempt(),
                            j.getDeadReason().name().replace("DEAD_REASON_", ""), instant(j.getFinishedAt()),
                            oneLine(j.getLastError()));
                }
                t.print(broker.out());
                if (!token.isEmpty()) {
                    broker.out().println("(more than " + limit + "; raise --limit to see them)");
                    broker.out().flush();
                }
            });
        }

        private static String oneLine(String s) {
            String line = s.replace('\n', ' ');
            return line.length() > 60 ? line.substring(0, 60) + "…" : line;
        }

        private static String instant(Timestamp t) {
            return Instant.ofEpochSecond(t.getSeconds(), t.getNanos()).toString();
        }
    }

    @Command(name = "requeue", mixinStandardHelpOptions = true,
            description = {"Sends DEAD jobs back to READY with their attempts reset (errors are kept).",
                    "Without IDs: every DEAD job of the queue, which needs --yes."})
    static final class Requeue implements Callable<Integer> {
        @Mixin
        BrokerConnection broker;
        @Option(names = "--queue", required = true, paramLabel = "NAME", description = "The queue.")
        String queue;
        @Option(names = "--yes", description = "Confirms requeueing every DEAD job (when no IDs are given).")
        boolean yes;
        @Parameters(paramLabel = "ID", arity = "0..*", description = "Jobs to requeue (default: all of the queue's DEAD jobs).")
        java.util.List<String> ids = new ArrayList<>();

        @Override
        public Integer call() {
            if (ids.isEmpty() && !yes) {
                broker.spec.commandLine().getErr().println("hoist: no IDs given, so this requeues every DEAD job of "
                        + queue + "; run again with --yes to do it");
                return 2;
            }
            return broker.call(() -> {
                RequeueDeadResponse r = broker.admin().requeueDead(RequeueDeadRequest.newBuilder().setQueue(queue)
                        .addAllJobIds(ids).build());
                if (broker.json) {
                    broker.printJson(r);
                } else {
                    broker.out().printf("requeued %d jobs in %s%n", r.getRequeued(), queue);
                    broker.out().flush();
                }
            });
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Deletes DEAD jobs for good (all of the queue's without IDs). Needs --yes.")
    static final class Delete implements Callable<Integer> {
        @Mixin
        BrokerConnection broker;
        @Option(names = "--queue", required = true, paramLabel = "NAME", description = "The queue.")
        String queue;
        @Option(names = "--yes", description = "Really delete.")
        boolean yes;
        @Parameters(paramLabel = "ID", arity = "0..*", description = "Jobs to delete (default: all of the queue's DEAD jobs).")
        java.util.List<String> ids = new ArrayList<>();

        @Override
        public Integer call() {
            if (!yes) {
                broker.spec.commandLine().getErr().println("hoist: delete removes "
                        + (ids.isEmpty() ? "every DEAD job of " + queue : ids.size() + " DEAD jobs")
                        + " for good; run again with --yes to do it");
                return 2;
            }
            return broker.call(() -> {
                DeleteDeadResponse r = broker.admin().deleteDead(DeleteDeadRequest.newBuilder().setQueue(queue)
                        .addAllJobIds(ids).build());
                if (broker.json) {
                    broker.printJson(r);
                } else {
                    broker.out().printf("deleted %d jobs from %s%n", r.getDeleted(), queue);
                    broker.out().flush();
                }
            });
        }
    }
}
