package io.hoist.loadtest;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/** A one-line bar on stderr, redrawn four times a second by a daemon thread while a scenario runs. */
public final class ProgressBar implements AutoCloseable {
    private static final int WIDTH = 30;
    private static final long PERIOD_MS = 250;

    private final String label;
    private final long total;
    private final LongSupplier done;
    private final PrintStream out;
    private final long startNanos = System.nanoTime();
    private final Thread drawer;
    private volatile boolean closed;

    private ProgressBar(String label, long total, LongSupplier done, PrintStream out, boolean enabled) {
        this.label = label;
        this.total = total;
        this.done = done;
        this.out = out;
        this.drawer = enabled ? new Thread(this::drawLoop, "loadtest-progress") : null;
        if (drawer != null) {
            drawer.setDaemon(true);
            drawer.start();
        }
    }

    /** A bar counting {@code done} up to {@code total}; draws nothing unless {@code enabled}. */
    public static ProgressBar start(String label, long total, LongSupplier done, boolean enabled) {
        return new ProgressBar(label, total, done, System.err, enabled);
    }

    /** CI logs have no terminal, and a bar redrawn with \r would only fill them with noise. */
    public static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (Exception | Error e) {
            return System.console() != null; // not Linux: the best the JDK can tell
        }
    }

    private void drawLoop() {
        while (!closed) {
            out.print('\r' + line(label, done.getAsLong(), total, System.nanoTime() - startNanos));
            out.flush();
            try {
                Thread.sleep(PERIOD_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The bar's text: label, bar, percentage, count and the mean rate so far. */
    static String line(String label, long done, long total, long elapsedNanos) {
        double fraction = total <= 0 ? 0 : Math.min(1.0, (double) done / total);
        int filled = (int) Math.round(fraction * WIDTH);
        double seconds = elapsedNanos / 1e9;
        long rate = seconds <= 0 ? 0 : Math.round(done / seconds);
        return String.format(Locale.ROOT, "%s [%s%s] %3d%% %,d/%,d %,d/s %.1fs ", label,
                "#".repeat(filled), "-".repeat(WIDTH - filled), Math.round(fraction * 100), done, total, rate, seconds);
    }

    @Override
    public void close() {
        if (drawer == null || closed) {
            closed = true;
            return;
        }
        closed = true;
        drawer.interrupt();
        try {
            drawer.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.println('\r' + line(label, done.getAsLong(), total, System.nanoTime() - startNanos));
        out.flush();
    }
}
