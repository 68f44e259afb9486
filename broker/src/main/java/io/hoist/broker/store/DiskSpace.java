package io.hoist.broker.store;

import io.hoist.broker.config.ByteSizeFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;

/**
 * The room left on the data dir's filesystem, against the floor {@code --min-free-disk}. Below
 * the floor the broker refuses enqueues (they are what fills a disk) and keeps taking acks,
 * nacks and leases, which are small and free space once compacted: the floor is the headroom
 * that lets workers drain a backlog on a disk that is almost full.
 *
 * <p>The figure is sampled at most every {@link #SAMPLE_EVERY_MILLIS} (one {@code statvfs}), so
 * asking per enqueue costs a clock read. Thread-safe: the engine thread and {@code /readyz} ask.
 */
public final class DiskSpace {
    public static final long SAMPLE_EVERY_MILLIS = 250;
    private static final Logger log = LoggerFactory.getLogger(DiskSpace.class);

    /** Where the figure comes from: the filesystem, or a test that decides how full the disk is. */
    @FunctionalInterface
    public interface Source {
        /** Bytes this process may still write in the data dir. */
        long usableBytes() throws IOException;
    }

    private final Path dir;
    private final long minFreeBytes;
    private final Source source;
    private final Clock clock;
    private volatile boolean sampled;
    private volatile long sampledAtMillis;
    private volatile long usableBytes = Long.MAX_VALUE;
    private volatile boolean unreadable;

    /**
     * @param minFreeBytes the floor; 0 turns the check off (RocksDB then stops only when a write
     *                     really fails for lack of space)
     */
    public DiskSpace(Path dir, long minFreeBytes, Source source, Clock clock) {
        if (minFreeBytes < 0) {
            throw new IllegalArgumentException("--min-free-disk must not be negative, got " + minFreeBytes);
        }
        this.dir = dir;
        this.minFreeBytes = minFreeBytes;
        this.source = source;
        this.clock = clock;
    }

    /** The usable space of the filesystem that holds {@code dir} (which must exist when it is first asked). */
    public static Source fileSystemOf(Path dir) {
        return new Source() {
            private FileStore fileStore; // looked up once: finding it reads the mount table

            @Override
            public synchronized long usableBytes() throws IOException {
                if (fileStore == null) {
                    fileStore = Files.getFileStore(dir);
                }
                return fileStore.getUsableSpace();
            }
        };
    }

    public Path dir() {
        return dir;
    }

    public long minFreeBytes() {
        return minFreeBytes;
    }

    /** Null while there is room; otherwise what is wrong, for /readyz and the log. */
    public String shortage() {
        if (minFreeBytes == 0) {
            return null;
        }
        long usable = usableBytes();
        if (usable >= minFreeBytes) {
            return null;
        }
        return "disk almost full: " + mib(usable) + " free in " + dir.toAbsolutePath() + ", below --min-free-disk "
                + ByteSizeFormat.format(minFreeBytes);
    }

    /** The usable bytes, at most {@link #SAMPLE_EVERY_MILLIS} old; {@code Long.MAX_VALUE} if unknown. */
    public long usableBytes() {
        long now = clock.millis();
        if (!sampled || now - sampledAtMillis >= SAMPLE_EVERY_MILLIS || now < sampledAtMillis) {
            usableBytes = readNow();
            sampledAtMillis = now;
            sampled = true;
        }
        return usableBytes;
    }

    /** The usable bytes read now, bypassing the sample; {@code Long.MAX_VALUE} if unknown. */
    public long readNow() {
        try {
            long v = source.usableBytes();
            unreadable = false;
            return v;
        } catch (IOException | RuntimeException e) {
            if (!unreadable) {
                log.warn("cannot read the free space of {} ({}); --min-free-disk is not checked until it can be read",
                        dir.toAbsolutePath(), e.toString());
                unreadable = true;
            }
            return Long.MAX_VALUE;
        }
    }

    public static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }
}
