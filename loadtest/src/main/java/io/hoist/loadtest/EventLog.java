package io.hoist.loadtest;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What one client of the crash-loop checker was told by the broker, one event a line:
 * <pre>
 *   TYPE \t jobId \t leaseToken \t attempt \t nanoTime \t wallMillis
 * </pre>
 * Types: {@code ENQUEUED} (producer: the broker acknowledged the enqueue), {@code RECEIVED}
 * (worker: a handler started on this delivery), and the SDK's settlement of each result
 * ({@code ACKED} = ack accepted, {@code ACK_REFUSED}, {@code NOT_SENT}, {@code NACKED},
 * {@code NACK_REFUSED}); {@code REGISTERED} carries the worker id as its job id.
 * Each line is written with one unbuffered write, so a {@code kill -9} loses nothing that was
 * logged, and a reader skips a torn last line. {@code nanoTime} is CLOCK_MONOTONIC on Linux,
 * comparable across the JVMs of one machine. Thread-safe.
 */
final class EventLog implements AutoCloseable {
    private final OutputStream out;

    private EventLog(OutputStream out) {
        this.out = out;
    }

    static EventLog append(Path file) {
        try {
            return new EventLog(new FileOutputStream(file.toFile(), true));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the event log " + file + ": check the --dir is writable", e);
        }
    }

    void write(String type, String jobId, String token, int attempt) {
        String line = String.join("\t", type, jobId, token == null ? "-" : token, Integer.toString(attempt),
                Long.toString(System.nanoTime()), Long.toString(System.currentTimeMillis())) + "\n";
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        synchronized (this) {
            try {
                out.write(bytes);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the event log", e);
            }
        }
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** One line of a log. */
    record Event(String type, String jobId, String token, int attempt, long nanos) {
        boolean is(String t) {
            return type.equals(t);
        }
    }

    /** The whole lines of a log (a line torn by a kill has no newline yet and is skipped). */
    static List<Event> read(Path file) {
        String text;
        try {
            if (!Files.exists(file)) {
                return List.of();
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the event log " + file, e);
        }
        List<Event> events = new ArrayList<>();
        int start = 0;
        for (int end = text.indexOf('\n'); end >= 0; start = end + 1, end = text.indexOf('\n', start)) {
            String[] f = text.substring(start, end).split("\t", -1);
            if (f.length == 6) {
                events.add(new Event(f[0], f[1], f[2], Integer.parseInt(f[3]), Long.parseLong(f[4])));
            }
        }
        return events;
    }
}
