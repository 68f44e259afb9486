package io.hoist.broker.cli;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Durations;
import io.hoist.proto.v1.EnqueueRequest;
import io.hoist.proto.v1.EnqueuedJob;
import io.hoist.proto.v1.GetJobRequest;
import io.hoist.proto.v1.JobSpec;
import io.hoist.proto.v1.RetryPolicy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code hoist enqueue QUEUE TYPE [PAYLOAD]}: one job from the shell. */
@Command(name = "enqueue", mixinStandardHelpOptions = true,
        description = {"Enqueues one job and prints its id (--json: the whole job).",
                "The payload is the PAYLOAD argument, a file (--payload-file), or standard input (--payload-file -)."})
final class EnqueueCommand implements Callable<Integer> {
    @Mixin
    BrokerConnection broker;

    @Parameters(index = "0", paramLabel = "QUEUE", description = "The queue (1-128 chars of A-Za-z0-9._-).")
    String queue;

    @Parameters(index = "1", paramLabel = "TYPE", description = "The job type, which picks the worker's handler.")
    String type;

    @Parameters(index = "2", arity = "0..1", paramLabel = "PAYLOAD", description = "The payload as text (e.g. JSON).")
    String payload;

    @Option(names = "--payload-file", paramLabel = "FILE", description = "Read the payload from FILE ('-' = standard input).")
    String payloadFile;

    @Option(names = {"-p", "--priority"}, paramLabel = "0-9", defaultValue = "0",
            description = "Higher runs first. Default: ${DEFAULT-VALUE}")
    int priority;

    @Option(names = "--delay", paramLabel = "DURATION", converter = ServeCommand.DurationConverter.class,
            description = "Not before now + DURATION (e.g. 30s, 5m).")
    Duration delay;

    @Option(names = "--run-at", paramLabel = "INSTANT", description = "Not before this time (ISO-8601, e.g. 2026-12-01T09:00:00Z).")
    String runAt;

    @Option(names = "--max-attempts", paramLabel = "N", description = "Deliveries allowed, the first included (default: the queue's).")
    Integer maxAttempts;

    @Option(names = "--unique-key", paramLabel = "KEY", description = "While a job with this key lives in the queue, enqueueing it again returns that job.")
    String uniqueKey;

    @Option(names = "--unique-for", paramLabel = "DURATION", converter = ServeCommand.DurationConverter.class,
            description = "Keep the unique key held this long after the job ends.")
    Duration uniqueFor;

    @Option(names = "--job-id", paramLabel = "ID", description = "Your own id (safe retries: the same id returns the same job).")
    String jobId;

    @Option(names = {"-H", "--header"}, paramLabel = "KEY=VALUE", description = "A header (repeatable).")
    Map<String, String> headers = new LinkedHashMap<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        JobSpec.Builder job = JobSpec.newBuilder().setQueue(queue).setType(type).setPriority(priority)
                .setPayload(ByteString.copyFrom(payloadBytes())).putAllHeaders(headers);
        if (delay != null) job.setDelay(Durations.fromNanos(delay.toNanos()));
        if (runAt != null) job.setRunAt(timestamp(runAt));
        if (maxAttempts != null) job.setRetry(RetryPolicy.newBuilder().setMaxAttempts(maxAttempts));
        if (uniqueKey != null) job.setUniqueKey(uniqueKey);
        if (uniqueFor != null) job.setUniqueFor(Durations.fromNanos(uniqueFor.toNanos()));
        if (jobId != null) job.setJobId(jobId);
        return broker.call(() -> {
            EnqueuedJob e = broker.jobs().enqueue(EnqueueRequest.newBuilder().addJobs(job).build()).getJobs(0);
            if (broker.json) {
                broker.printJson(broker.jobs().getJob(GetJobRequest.newBuilder().setJobId(e.getJobId()).build()));
            } else {
                broker.out().println(e.getJobId() + (e.getDuplicate() ? " (duplicate: the job already existed)" : ""));
                broker.out().flush();
            }
        });
    }

    private byte[] payloadBytes() {
        if (payload != null && payloadFile != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give the payload as an argument or --payload-file, not both");
        }
        if (payloadFile == null) {
            return payload == null ? new byte[0] : payload.getBytes(StandardCharsets.UTF_8);
        }
        try {
            if (payloadFile.equals("-")) {
                InputStream in = System.in;
                return in.readAllBytes();
            }
            return Files.readAllBytes(Path.of(payloadFile));
        } catch (IOException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "cannot read --payload-file " + payloadFile + ": " + e.getMessage());
        }
    }

    private Timestamp timestamp(String text) {
        try {
            Instant t = Instant.parse(text);
            return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
        } catch (DateTimeParseException e) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--run-at must be an ISO-8601 instant like 2026-12-01T09:00:00Z, got '" + text + "'");
        }
    }
}
