package io.hoist.loadtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The backlog scenario's view of the broker process it started: heap (as scraped from /metrics,
 * and live after a full GC asked for with {@code jcmd PID GC.run}), RSS, and the largest heap and
 * RSS seen by a daemon thread that samples every {@code period} for as long as the scenario runs.
 * After a restart, {@link #follow} points it at the new process.
 */
final class FootprintWatch implements AutoCloseable {
    private final Duration period;
    private final Thread thread;
    private volatile BrokerSampler sampler;
    private volatile long maxHeapBytes = -1;
    private volatile long maxRssBytes = -1;
    private volatile boolean closed;

    FootprintWatch(Duration period) {
        this.period = period;
        this.thread = new Thread(this::run, "loadtest-footprint");
        thread.setDaemon(true);
    }

    /** Samples the broker at {@code metricsUrl} with process id {@code pid} from now on (and starts sampling). */
    void follow(String metricsUrl, long pid) {
        sampler = new BrokerSampler(URI.create(metricsUrl), OptionalLong.of(pid));
        if (!thread.isAlive() && !closed) thread.start();
    }

    /** One sample now; it counts towards the maxima too. */
    BrokerSampler.Footprint sample() throws InterruptedException {
        BrokerSampler.Footprint f = sampler.sample();
        if (f.heapBytes() > maxHeapBytes) maxHeapBytes = f.heapBytes();
        if (f.rssBytes() > maxRssBytes) maxRssBytes = f.rssBytes();
        return f;
    }

    /**
     * The heap after a full collection: what the broker's objects really hold, without the garbage
     * a scrape also counts. -1 if jcmd (from this JDK) could not ask for the GC.
     */
    long liveHeapBytes(long pid) throws InterruptedException {
        return jcmd(pid, "GC.run", ProcessBuilder.Redirect.DISCARD) ? sample().heapBytes() : -1;
    }

    /** Writes {@code jcmd PID GC.class_histogram} (live objects per class, after a full GC) to {@code file}. */
    boolean writeClassHistogram(long pid, Path file) throws InterruptedException {
        return jcmd(pid, "GC.class_histogram", ProcessBuilder.Redirect.to(file.toFile()));
    }

    private static boolean jcmd(long pid, String command, ProcessBuilder.Redirect output) throws InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), command)
                    .redirectErrorStream(true).redirectOutput(output).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) { // a full GC of a 10 GB heap takes seconds, not minutes
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            System.err.println("hoist-loadtest: could not run " + jcmd + " " + command + ": " + e.getMessage());
            return false;
        }
    }

    long maxHeapBytes() {
        return maxHeapBytes;
    }

    long maxRssBytes() {
        return maxRssBytes;
    }

    /** Bytes of every regular file under {@code dir} (RocksDB's SST, WAL and manifest files); -1 if unreadable. */
    static long sizeOf(Path dir) {
        for (int attempt = 0; attempt < 3; attempt++) { // a compaction may delete a file while we walk
            long size = walk(dir);
            if (size >= 0) return size;
        }
        return -1;
    }

    private static long walk(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (NoSuchFileException gone) {
                    return 0; // deleted by a compaction while we walked
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        } catch (IOException | UncheckedIOException e) {
            return -1;
        }
    }

    private void run() {
        while (!closed) {
            try {
                if (sampler != null) sample();
                Thread.sleep(period.toMillis()); // a fixed sampling period, not a wait for a condition
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
