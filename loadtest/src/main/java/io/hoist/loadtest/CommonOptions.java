package io.hoist.loadtest;

import picocli.CommandLine.Option;

/** Options every scenario takes. */
public final class CommonOptions {

    @Option(names = "--broker", defaultValue = "localhost:7070", description = "the broker's gRPC host:port (default: ${DEFAULT-VALUE})")
    String broker;

    @Option(names = "--queue", description = "queue to use (default: a new one per run, loadtest-<scenario>-<time>, so leftovers of an earlier run cannot skew this one)")
    String queue;

    @Option(names = "--payload", defaultValue = "256", description = "payload bytes per job (default: ${DEFAULT-VALUE})")
    int payloadBytes;

    @Option(names = "--json", description = "print one JSON object instead of the table")
    boolean json;

    @Option(names = "--progress", description = "draw the progress bar even when stderr is not a terminal")
    boolean progress;

    @Option(names = "--timeout", defaultValue = "600", description = "give up after this many seconds (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    /** The queue of this run: the one given, or a fresh one. */
    String queueFor(String scenario) {
        return queue != null ? queue : "loadtest-" + scenario + "-" + System.currentTimeMillis();
    }

    long timeoutNanos() {
        return timeoutSeconds * 1_000_000_000L;
    }

    ProgressBar progressBar(String label, long total, java.util.function.LongSupplier done) {
        return ProgressBar.start(label, total, done, progress || ProgressBar.stderrIsTerminal());
    }
}
