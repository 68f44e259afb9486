package io.hoist.loadtest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A short crash loop through the real command: the packaged broker jar ({@code -Dhoist.jar}, set
 * by failsafe to {@code ../broker/target/hoist.jar}) killed with SIGKILL three times and one
 * worker JVM once, under a steady load; every invariant of the checker must count 0. The full
 * run (20+ kills) is in docs/reliability.md.
 */
class ChaosIT {

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failure keeps the logs the report points to
    Path dir;

    @Test
    @Timeout(value = 180, unit = SECONDS)
    void brokerAndWorkerKilledUnderLoad_noAcknowledgedJobLostNorUnfinishedNorCompletedTwice() {
        StringWriter out = new StringWriter();
        int code = LoadtestCommand.commandLine().setOut(new PrintWriter(out)).execute("chaos",
                "--broker-jar", System.getProperty("hoist.jar", "../broker/target/hoist.jar"),
                "--dir", dir.toString(), "--seed", "20261122",
                "--kills", "3", "--worker-kills", "1", "--min-up", "2s", "--max-up", "4s",
                "--rate", "250", "--workers", "2", "--drain-timeout", "90s", "--json");
        String json = out.toString().trim();
        assertThat(json).as("the report").startsWith("{");
        assertThat(number(json, "broker_kills")).isEqualTo(3);
        assertThat(number(json, "broker_kills_under_load")).isEqualTo(3);
        assertThat(number(json, "worker_kills")).isEqualTo(1);
        assertThat(number(json, "enqueues_acknowledged")).as(json).isGreaterThan(1_000);
        assertThat(number(json, "lost")).as(json).isZero();
        assertThat(number(json, "unfinished")).as(json).isZero();
        assertThat(number(json, "completed_twice")).as(json).isZero();
        assertThat(number(json, "acked_not_succeeded")).as(json).isZero();
        assertThat(number(json, "delivered_after_ack")).as(json).isZero();
        // a handler logs a delivery before it can be acked, so every job was seen running at least once
        assertThat(json).as("jobs never seen running").doesNotContain("\"deliveries_per_job\":{\"0\"");
        assertThat(code).as("exit code; the report: %s (logs in %s)", json, dir).isZero();
    }

    private static long number(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(-?[0-9]+)").matcher(json);
        assertThat(m.find()).as(key + " in " + json).isTrue();
        return Long.parseLong(m.group(1));
    }
}
