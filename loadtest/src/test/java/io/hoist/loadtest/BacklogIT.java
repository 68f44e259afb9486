package io.hoist.loadtest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * W4 once at a tiny size through the real command: the packaged broker jar ({@code -Dhoist.jar},
 * set by failsafe) filled with 2,000 jobs, measured at both depths, stopped and restarted. Checks
 * that every phase ran and reported, not how fast (the figures are in docs/benchmarks.md).
 */
class BacklogIT {

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 120, unit = SECONDS)
    void smallBacklog_isFilledMeasuredAtBothDepthsAndRecoveredAfterRestart() {
        StringWriter out = new StringWriter();
        int code = LoadtestCommand.commandLine().setOut(new PrintWriter(out)).execute("backlog",
                "--broker-jar", System.getProperty("hoist.jar", "../broker/target/hoist.jar"),
                "--broker-jvm-opts", "-Xmx256m -XX:+ExitOnOutOfMemoryError", "--dir", dir.toString(),
                "--jobs", "2000", "--batch", "100", "--shallow-depth", "100", "--measure", "500", "--rounds", "1",
                "--warmup", "100", "--timeout", "60", "--json");
        String json = out.toString().trim();
        assertThat(json).as("the report").startsWith("{").endsWith("}");
        assertThat(code).as("exit code; the report: %s (logs in %s)", json, dir).isZero();
        assertThat(number(json, "stored")).isEqualTo(2000);
        assertThat(number(json, "lease_ack_per_second_shallow")).isPositive();
        assertThat(number(json, "lease_ack_per_second_deep")).isPositive();
        assertThat(number(json, "lease_ack_per_second_shallow_beside_backlog")).isPositive();
        assertThat(number(json, "deep_vs_shallow")).isPositive();
        assertThat(number(json, "deep_vs_shallow_beside_backlog")).isPositive();
        // each side had its warm-up round (100 jobs) before its measured round (500)
        for (String side : new String[] {"shallow", "shallow_beside_backlog", "deep"}) {
            assertThat(number(json, side + "_acked")).as(side + "_acked").isGreaterThanOrEqualTo(600);
        }
        assertThat(number(json, "shallow_refused") + number(json, "shallow_beside_backlog_refused")
                + number(json, "deep_refused")).isZero();
        assertThat(number(json, "heap_after_fill_live_bytes")).as("jcmd GC.run worked").isPositive();
        assertThat(number(json, "heap_max_seen_bytes")).isGreaterThanOrEqualTo(number(json, "heap_after_fill_live_bytes"));
        assertThat(number(json, "rss_after_fill_bytes")).isPositive();
        assertThat(number(json, "data_dir_bytes")).isPositive();
        // the depth was held through the rounds, and the restart loaded the whole backlog back
        assertThat(number(json, "recovered_jobs_logged")).isGreaterThanOrEqualTo(2000 + 100);
        assertThat(number(json, "recovery_logged_ms")).isNotNegative();
        assertThat(number(json, "restart_to_first_lease_seconds"))
                .isGreaterThanOrEqualTo(number(json, "restart_to_healthz_seconds")).isPositive();
        assertThat(number(json, "compaction_wait_seconds")).isNotNegative();
        for (String file : new String[] {"broker.log", "heap-after-fill.txt", "heap-after-restart.txt"}) {
            assertThat(dir.resolve(file)).satisfies(f -> assertThat(Files.size(f)).as(file).isPositive());
        }
        assertThat(dir.resolve("heap-after-fill.txt")).content().contains("Total");
    }

    private static double number(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(-?[0-9.]+)").matcher(json);
        assertThat(m.find()).as(key + " in " + json).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
