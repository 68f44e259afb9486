package io.hoist.broker.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ByteSizeFormatTest {

    @Test
    void parsesBytesAndBinaryUnits() {
        assertThat(ByteSizeFormat.parse("0")).isZero();
        assertThat(ByteSizeFormat.parse("4096")).isEqualTo(4096);
        assertThat(ByteSizeFormat.parse("512KiB")).isEqualTo(512L << 10);
        assertThat(ByteSizeFormat.parse(" 64MiB ")).isEqualTo(64L << 20);
        assertThat(ByteSizeFormat.parse("1GiB")).isEqualTo(1L << 30);
        assertThat(ByteSizeFormat.parse("2TiB")).isEqualTo(2L << 40);
    }

    @Test
    void refusesWhatIsNotASize_sayingHowToWriteOne() {
        for (String bad : new String[]{"", "-1", "64MB", "1.5GiB", "MiB", "64 mib"}) {
            assertThatThrownBy(() -> ByteSizeFormat.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("64MiB");
        }
        assertThatThrownBy(() -> ByteSizeFormat.parse("99999999999TiB")).hasMessageContaining("too large");
    }

    @Test
    void formatsWithTheLargestExactUnit() {
        assertThat(ByteSizeFormat.format(256L << 20)).isEqualTo("256MiB");
        assertThat(ByteSizeFormat.format(1536L << 10)).isEqualTo("1536KiB");
        assertThat(ByteSizeFormat.format(1000)).isEqualTo("1000");
        assertThat(ByteSizeFormat.format(0)).isEqualTo("0");
        assertThat(ByteSizeFormat.parse(ByteSizeFormat.format(3L << 30))).isEqualTo(3L << 30);
    }
}
