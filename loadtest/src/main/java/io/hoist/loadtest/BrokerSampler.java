package io.hoist.loadtest;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * Reads the broker's footprint: heap in use from its Prometheus text ({@code jvm_memory_used_bytes}
 * of area heap, summed over the pools), and RSS and open files from {@code /proc/PID} when the
 * broker is a process of this machine whose pid we know, else from {@code process_resident_memory_bytes}
 * and {@code process_files_open_files} if the broker exports them. A value it cannot read is -1.
 */
final class BrokerSampler {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final URI metrics;
    private final OptionalLong pid;

    BrokerSampler(URI metrics, OptionalLong pid) {
        this.metrics = metrics;
        this.pid = pid;
    }

    /** One reading; bytes and counts, -1 where unknown. */
    record Footprint(long heapBytes, long oldGenBytes, long heapCommittedBytes, long rssBytes, long openFiles) {
    }

    Footprint sample() throws InterruptedException {
        String text = "";
        try {
            text = HTTP.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)).body();
        } catch (IOException e) {
            // the broker did not answer: the heap stays unknown for this sample
        }
        long rss = pid.isPresent() ? procRssBytes(pid.getAsLong()) : -1;
        long files = pid.isPresent() ? procOpenFiles(pid.getAsLong()) : -1;
        return new Footprint(sum(text, "jvm_memory_used_bytes", "area=\"heap\"", null),
                sum(text, "jvm_memory_used_bytes", "area=\"heap\"", "Old Gen|Tenured Gen"),
                sum(text, "jvm_memory_committed_bytes", "area=\"heap\"", null),
                rss >= 0 ? rss : sum(text, "process_resident_memory_bytes", null, null),
                files >= 0 ? files : sum(text, "process_files_open_files", null, null));
    }

    /**
     * The sum of a metric's samples whose labels contain {@code labelFilter} and whose text matches
     * {@code idRegex} somewhere (null: any); -1 if there is none.
     */
    static long sum(String prometheusText, String metric, String labelFilter, String idRegex) {
        double total = 0;
        boolean found = false;
        java.util.regex.Pattern id = idRegex == null ? null : java.util.regex.Pattern.compile(idRegex);
        for (String line : prometheusText.split("\n")) {
            if (line.startsWith("#") || !(line.startsWith(metric + "{") || line.startsWith(metric + " "))) continue;
            int space = line.lastIndexOf(' ');
            String labels = line.substring(0, space);
            if (labelFilter != null && !labels.contains(labelFilter)) continue;
            if (id != null && !id.matcher(labels).find()) continue;
            try {
                total += Double.parseDouble(line.substring(space + 1).trim());
                found = true;
            } catch (NumberFormatException e) {
                // a sample with a timestamp or NaN: not ours
            }
        }
        return found ? (long) total : -1;
    }

    private static long procRssBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024; // the kernel writes kB
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process is gone
        }
        return -1;
    }

    private static long procOpenFiles(long pid) {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.count();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
