package io.hoist.loadtest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A 20-second soak against the packaged broker jar ({@code -Dhoist.jar}) started as a process:
 * every sample carries the broker's heap (from /metrics), RSS and open files (from /proc) and a
 * p99, and every job sent is handled. Whether 20 s stay flat says little; the 10-minute figures
 * are in docs/reliability.md.
 */
class SoakIT {

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 120, unit = SECONDS)
    void shortSoak_samplesTheBrokersFootprintAndLatencyEveryInterval() throws Exception {
        StringWriter out = new StringWriter();
        Path prefix = dir.resolve("soak");
        LoadtestCommand.commandLine().setOut(new PrintWriter(out)).execute("soak",
                "--broker-jar", System.getProperty("hoist.jar", "../broker/target/hoist.jar"),
                "--duration", "20s", "--interval", "2s", "--rate", "100", "--out", prefix.toString(),
                "--dir", dir.resolve("broker").toString());
        List<String> csv = Files.readAllLines(Path.of(prefix + ".csv"));
        assertThat(csv.get(0)).isEqualTo("t_s,heap_mib,old_gen_mib,heap_committed_mib,rss_mib,open_files,p50_ms,p99_ms,jobs_per_s");
        assertThat(csv).as(out.toString()).hasSize(11);
        for (String row : csv.subList(1, csv.size())) {
            String[] f = row.split(",");
            assertThat(Double.parseDouble(f[1])).as("heap in %s", row).isPositive();
            assertThat(Double.parseDouble(f[3])).as("committed heap in %s", row).isGreaterThanOrEqualTo(Double.parseDouble(f[1]));
            assertThat(Double.parseDouble(f[4])).as("RSS in %s", row).isGreaterThan(Double.parseDouble(f[1]));
            assertThat(Long.parseLong(f[5])).as("open files in %s", row).isPositive();
            assertThat(Double.parseDouble(f[7])).as("p99 in %s", row).isGreaterThanOrEqualTo(Double.parseDouble(f[6]));
        }
        String json = Files.readString(Path.of(prefix + ".json"));
        assertThat(json).contains("\"stored\":2000,\"failed\":0,\"handled\":2000");
        assertThat(out.toString()).contains("heap_mib: second-tenth median", "saved " + prefix + ".csv");
        assertThat(dir.resolve("broker/broker.log")).isRegularFile();
        assertThat(dir.resolve("broker/data")).as("the data dir is removed").doesNotExist();
        assertThat(dir.resolve("broker/hoist.jar")).as("and so is the jar's copy").doesNotExist();
        assertThat(json).as("a full GC forced by jcmd at 4 s and at the end").contains("\"series\":\"heap_after_full_gc_mib\"")
                .doesNotContain("\"second_tenth_median\":null");
    }
}
