package io.hoist.examples;

import io.hoist.sdk.JobContext;
import io.hoist.sdk.NonRetryableException;
import io.hoist.sdk.Worker;

/** Sends the emails {@link Producer} enqueues, four at a time, until Ctrl-C (or SIGTERM). */
public final class EmailWorker {
    record Email(String to, String subject) {
    }

    public static void main(String[] args) {
        Worker worker = Worker.builder()
                .target(args.length > 0 ? args[0] : "localhost:7070")
                .queues("emails")
                .concurrency(4)
                .handle("send-welcome", EmailWorker::sendWelcome)
                .build()
                .start();
        // on exit: stop leasing, let running jobs finish and ack (30 s grace), deregister
        Runtime.getRuntime().addShutdownHook(new Thread(worker::close));
    }

    /** Returning acks the job; throwing retries it with backoff, up to its max attempts. */
    static void sendWelcome(JobContext ctx) {
        Email email = ctx.payload(Email.class);
        if (!email.to().contains("@")) {
            throw new NonRetryableException("not an address: " + email.to()); // to DEAD at once
        }
        // Delivery is at least once: a real mailer would pass ctx.id() as its idempotency key.
        System.out.printf("sending '%s' to %s (job %s, attempt %d)%n", email.subject(), email.to(), ctx.id(),
                ctx.attempt());
    }
}
