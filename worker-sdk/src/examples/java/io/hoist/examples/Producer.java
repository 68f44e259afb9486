package io.hoist.examples;

import io.hoist.sdk.Enqueued;
import io.hoist.sdk.HoistClient;
import io.hoist.sdk.JobRequest;

import java.time.Duration;

/** Enqueues two welcome emails. Start a broker ({@code bin/hoist serve}) and {@link EmailWorker}, then run this. */
public final class Producer {
    record Email(String to, String subject) {
    }

    public static void main(String[] args) {
        String broker = args.length > 0 ? args[0] : "localhost:7070";
        try (HoistClient client = HoistClient.builder().target(broker).build()) {
            // stored durably before enqueue returns; the payload travels as JSON
            Enqueued job = client.enqueue("emails", "send-welcome", new Email("ada@example.com", "Welcome to Hoist"));
            System.out.println("enqueued " + job.jobId());

            // the long form: higher priority, in 10 s, at most 3 attempts, once per user
            Enqueued later = client.enqueue(JobRequest.builder("emails", "send-welcome")
                    .payload(new Email("grace@example.com", "Welcome back"))
                    .priority(5)
                    .delay(Duration.ofSeconds(10))
                    .maxAttempts(3)
                    .uniqueKey("welcome:grace@example.com")
                    .build());
            System.out.println("enqueued " + later.jobId() + (later.duplicate() ? " (already there)" : ""));

            System.out.println(job.jobId() + " is " + client.getJob(job.jobId()).state());
        }
    }
}
