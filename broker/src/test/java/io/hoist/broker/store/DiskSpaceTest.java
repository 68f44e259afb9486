package io.hoist.broker.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class DiskSpaceTest {
    private static final long MIB = 1 << 20;

    private final AtomicLong free = new AtomicLong(1024 * MIB);
    private final AtomicInteger reads = new AtomicInteger();
    private final ManualClock clock = new ManualClock();
    private final DiskSpace space = new DiskSpace(Path.of("/data"), 256 * MIB, () -> {
        reads.incrementAndGet();
        return free.get();
    }, clock);

    @Test
    void noShortage_atOrAboveTheFloor() {
        assertThat(space.shortage()).isNull();
        free.set(256 * MIB);
        clock.advance(DiskSpace.SAMPLE_EVERY_MILLIS);
        assertThat(space.shortage()).isNull();
    }

    @Test
    void belowTheFloor_saysHowMuchIsFreeWhereAndTheFlag() {
        free.set(12 * MIB + MIB / 2);
        assertThat(space.shortage())
                .isEqualTo("disk almost full: 12.5 MiB free in /data, below --min-free-disk 256MiB");
    }

    @Test
    void readsTheFilesystemAtMostOncePerSample() {
        for (int i = 0; i < 100; i++) {
            space.shortage();
        }
        assertThat(reads).hasValue(1);
        free.set(MIB);
        clock.advance(DiskSpace.SAMPLE_EVERY_MILLIS - 1);
        assertThat(space.shortage()).as("the sample is still fresh").isNull();
        clock.advance(1);
        assertThat(space.shortage()).as("a new sample").isNotNull();
        assertThat(reads).hasValue(2);
    }

    @Test
    void clearsByItselfWhenSpaceComesBack() {
        free.set(MIB);
        assertThat(space.shortage()).isNotNull();
        free.set(300 * MIB);
        clock.advance(DiskSpace.SAMPLE_EVERY_MILLIS);
        assertThat(space.shortage()).isNull();
    }

    @Test
    void floorZero_turnsTheCheckOff() {
        DiskSpace off = new DiskSpace(Path.of("/data"), 0, () -> 0L, clock);
        assertThat(off.shortage()).isNull();
    }

    @Test
    void anUnreadableFilesystem_isNoShortage() {
        DiskSpace broken = new DiskSpace(Path.of("/data"), 256 * MIB, () -> {
            throw new IOException("statvfs failed");
        }, clock);
        assertThat(broken.shortage()).isNull();
        assertThat(broken.readNow()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void theFilesystemSource_readsTheRealUsableSpace(@TempDir Path dir) throws IOException {
        long usable = DiskSpace.fileSystemOf(dir).usableBytes();
        assertThat(usable).isPositive().isLessThanOrEqualTo(Files.getFileStore(dir).getTotalSpace());
    }

    /** A clock that moves only when told. */
    static final class ManualClock extends Clock {
        private long millis = 1_000_000;

        void advance(long by) {
            millis += by;
        }

        @Override
        public long millis() {
            return millis;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}
