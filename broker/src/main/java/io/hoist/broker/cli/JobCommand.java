package io.hoist.broker.cli;

import com.google.protobuf.Timestamp;
import io.hoist.proto.v1.CancelJobRequest;
import io.hoist.proto.v1.CancelJobResponse;
import io.hoist.proto.v1.GetJobRequest;
import io.hoist.proto.v1.Job;
import io.hoist.proto.v1.JobError;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.Callable;

/** {@code hoist job get|cancel ID}. */
@Command(name = "job", mixinStandardHelpOptions = true, description = "Shows or cancels one job.",
        subcommands = {JobCommand.Get.class, JobCommand.Cancel.class})
final class JobCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = "Shows a job: state, attempts, errors, payload. SUCCEEDED and CANCELED jobs stay visible for the broker's --retention.")
    static final class Get implements Callable<Integer> {
        @Mixin
        BrokerConnection broker;
        @Parameters(paramLabel = "ID", description = "The job id.")
        String id;

        @Override
        public Integer call() {
            return broker.call(() -> {
                Job job = broker.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
                if (broker.json) {
                    broker.printJson(job);
                } else {
                    print(broker.out(), job);
                }
            });
        }

        private static void print(PrintWriter out, Job j) {
            out.printf("id:          %s%n", j.getId());
            out.printf("queue:       %s%n", j.getSpec().getQueue());
            out.printf("type:        %s%n", j.getSpec().getType());
            out.printf("state:       %s%s%n", j.getState().name().replace("JOB_STATE_", ""),
                    j.getCancelRequested() ? " (cancel requested)" : "");
            out.printf("priority:    %d%n", j.getSpec().getPriority());
            out.printf("attempt:     %d%n", j.getAttempt());
            out.printf("created:     %s%n", instant(j.getCreatedAt()));
            out.printf("run at:      %s%n", instant(j.getRunAt()));
            if (j.hasFinishedAt()) out.printf("finished:    %s%n", instant(j.getFinishedAt()));
            if (!j.getWorkerId().isEmpty()) out.printf("worker:      %s%n", j.getWorkerId());
            if (j.getDeadReasonValue() != 0) out.printf("dead reason: %s%n", j.getDeadReason().name().replace("DEAD_REASON_", ""));
            for (JobError e : j.getErrorsList()) {
                out.printf("error:       attempt %d at %s: %s%n", e.getAttempt(), instant(e.getAt()), e.getMessage().replace('\n', ' '));
            }
            String payload = j.getSpec().getPayload().toString(StandardCharsets.UTF_8);
            out.printf("payload:     %s%n", payload.length() > 200 ? payload.substring(0, 200) + "… (" + j.getSpec().getPayload().size() + " bytes)" : payload);
            out.flush();
        }

        private static String instant(Timestamp t) {
            return Instant.ofEpochSecond(t.getSeconds(), t.getNanos()).toString();
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true,
            description = {"Cancels a job: at once if it waits (or is DEAD); a running job's worker is told to stop,",
                    "and the job ends CANCELED unless it succeeds first."})
    static final class Cancel implements Callable<Integer> {
        @Mixin
        BrokerConnection broker;
        @Parameters(paramLabel = "ID", description = "The job id.")
        String id;

        @Override
        public Integer call() {
            return broker.call(() -> {
                CancelJobResponse r = broker.jobs().cancelJob(CancelJobRequest.newBuilder().setJobId(id).build());
                if (broker.json) {
                    broker.printJson(r);
                } else {
                    broker.out().println(switch (r.getState()) {
                        case JOB_STATE_CANCELED -> id + " canceled";
                        case JOB_STATE_LEASED -> id + " is running: its worker was asked to stop it";
                        default -> id + " " + r.getState();
                    });
                    broker.out().flush();
                }
            });
        }
    }
}
