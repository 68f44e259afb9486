package io.hoist.loadtest;

import io.hoist.broker.BrokerServer;
import io.hoist.broker.config.BrokerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Every scenario once, at a tiny size, through the command line, against a broker in this JVM. */
class LoadtestSmokeTest {

    @TempDir
    static Path dataDir;

    static BrokerServer broker;
    static String target;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = new BrokerServer(BrokerConfig.defaults(dataDir).withPorts(0, 0), Clock.systemUTC()).start();
        target = "localhost:" + broker.grpcPort();
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) broker.close();
    }

    @Test
    void enqueueStoresEveryJob() {
        String json = run("enqueue", "--jobs", "2000", "--producers", "2", "--in-flight", "8");
        assertThat(number(json, "stored")).isEqualTo(2000);
        assertThat(number(json, "failed")).isZero();
        assertThat(number(json, "jobs_per_second")).isPositive();
    }

    @Test
    void batchedEnqueueStoresEveryJob() {
        String json = run("enqueue", "--jobs", "2000", "--batch", "100");
        assertThat(number(json, "stored")).isEqualTo(2000);
    }

    @Test
    void sdkDrainAcksEveryPrefilledJob() {
        String json = run("drain", "--mode", "sdk", "--jobs", "2000");
        assertThat(number(json, "jobs")).isEqualTo(2000);
        assertThat(number(json, "acked")).isEqualTo(2000);
        assertThat(number(json, "refused")).isZero();
    }

    @Test
    void rawDrainAcksEveryPrefilledJob() {
        String json = run("drain", "--mode", "raw", "--jobs", "2000");
        assertThat(number(json, "acked")).isEqualTo(2000);
        assertThat(number(json, "refused")).isZero();
    }

    @Test
    void streamDrainAcksEveryPrefilledJob() {
        String json = run("drain", "--mode", "stream", "--jobs", "2000");
        assertThat(number(json, "acked")).isEqualTo(2000);
        assertThat(number(json, "refused")).isZero();
    }

    @Test
    void latencyHandlesEveryJobAndReportsOrderedPercentiles() {
        String json = run("latency", "--rate", "200", "--warmup", "1", "--duration", "2");
        assertThat(number(json, "jobs")).isEqualTo(600);
        assertThat(number(json, "handled")).isEqualTo(600);
        assertThat(number(json, "recorded")).as("the warm-up's 200 jobs are not recorded").isEqualTo(400);
        double p50 = number(json, "p50_ms"), p99 = number(json, "p99_ms"), max = number(json, "max_ms");
        assertThat(p50).isPositive().isLessThanOrEqualTo(p99);
        assertThat(p99).isLessThanOrEqualTo(max);
    }

    @Test
    void latencyWithStreamedProducersStoresAndHandlesEveryJob() {
        String json = run("latency", "--rate", "200", "--warmup", "1", "--duration", "1", "--stream");
        assertThat(number(json, "stored")).isEqualTo(400);
        assertThat(number(json, "handled")).isEqualTo(400);
        assertThat(number(json, "failed")).isZero();
    }

    /** Runs the command with --json and returns what it printed; exit code 0 means every job was accounted for. */
    private static String run(String... args) {
        StringWriter out = new StringWriter();
        picocli.CommandLine cmd = LoadtestCommand.commandLine().setOut(new PrintWriter(out));
        String[] all = new String[args.length + 4];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--broker";
        all[args.length + 1] = target;
        all[args.length + 2] = "--json";
        all[args.length + 3] = "--timeout=60";
        int code = cmd.execute(all);
        String json = out.toString().trim();
        assertThat(code).as(json).isZero();
        assertThat(json).startsWith("{").endsWith("}");
        return json;
    }

    private static double number(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(-?[0-9.]+)").matcher(json);
        assertThat(m.find()).as(key + " in " + json).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
