package io.hoist.loadtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The broker as a real process: {@code java -jar hoist.jar serve} on a data dir and loopback
 * ports of its own, killed with SIGKILL and started again on the same dir and ports. Every start
 * appends to the same log file. The jar is copied next to the log first and run from there: a
 * rebuild of the original during a long run would otherwise swap classes under the running JVM
 * (it then fails with NoClassDefFoundError). Not thread-safe: one orchestrator drives it.
 */
final class BrokerProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private final Path jar;
    private final Path dataDir;
    private final Path log;
    private final List<String> jvmOptions;
    private final List<String> serveFlags;
    private final int grpcPort;
    private final int httpPort;
    private Process process;
    private int starts;

    BrokerProcess(Path jar, Path dataDir, Path log, List<String> jvmOptions, List<String> serveFlags) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("no broker jar at " + jar.toAbsolutePath()
                    + ": build it with ./mvnw -B -pl broker -am package -DskipTests, or name it with --broker-jar");
        }
        this.jar = Files.copy(jar, log.toAbsolutePath().resolveSibling("hoist.jar"), StandardCopyOption.REPLACE_EXISTING);
        this.dataDir = dataDir;
        this.log = log;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.serveFlags = List.copyOf(serveFlags);
        int[] ports = freePorts();
        this.grpcPort = ports[0];
        this.httpPort = ports[1];
    }

    /**
     * The broker jar next to this program's: {@code <root>/broker/target/hoist.jar} when this runs
     * from {@code <root>/loadtest/target/...}, else {@code broker/target/hoist.jar} under the working dir.
     */
    static Path defaultJar() {
        try {
            Path here = Path.of(LoadtestCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path p = here; p != null; p = p.getParent()) {
                Path candidate = p.resolve("broker/target/hoist.jar");
                if (Files.isRegularFile(candidate)) {
                    return candidate;
                }
            }
        } catch (URISyntaxException | RuntimeException e) {
            // fall through to the working directory
        }
        return Path.of("broker/target/hoist.jar");
    }

    String target() {
        return "127.0.0.1:" + grpcPort;
    }

    String metricsUrl() {
        return "http://127.0.0.1:" + httpPort + "/metrics";
    }

    long pid() {
        return process.pid();
    }

    int starts() {
        return starts;
    }

    /** Starts the broker and waits until /healthz answers 200 (or the process dies, or the timeout). */
    void start(Duration timeout) throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("the broker is still running (pid " + process.pid() + ")");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-jar", jar.toString(), "serve", "--data-dir", dataDir.toString(),
                "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort)));
        cmd.addAll(serveFlags);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("HOIST_")); // only the flags above count
        process = pb.start();
        starts++;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!healthy()) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the broker exited with " + process.exitValue() + " at start " + starts
                        + "; see its log " + log);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the broker did not answer /healthz within " + timeout.toSeconds()
                        + " s of start " + starts + "; see its log " + log);
            }
            Thread.sleep(20);
        }
    }

    boolean healthy() throws InterruptedException {
        try {
            HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/healthz"))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    /** GET /metrics as text. */
    String scrapeMetrics() throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(metricsUrl())).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)).body();
    }

    /**
     * A full collection in the broker ({@code jcmd PID GC.run}, i.e. System.gc()), so that the heap
     * in use afterwards is live data only. False if jcmd is missing or failed.
     */
    boolean fullGc() throws InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) return false;
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.run")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** SIGKILL, and wait until the process is gone. */
    void kill9() throws InterruptedException {
        process.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no flush
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the broker (pid " + process.pid() + ") did not die of SIGKILL in 30 s");
        }
    }

    /** SIGTERM (a clean stop), then SIGKILL if it takes longer than 30 s. {@link #start} may follow. */
    @Override
    public void close() throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            kill9();
        }
    }

    /** Stops the broker and deletes the jar's copy (150 MB): for the end of a run, when no start follows. */
    void closeForGood() throws InterruptedException {
        close();
        try {
            Files.deleteIfExists(jar);
        } catch (IOException e) {
            // a leftover copy in a run directory does no harm
        }
    }

    private static int[] freePorts() {
        try (ServerSocket a = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             ServerSocket b = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return new int[] {a.getLocalPort(), b.getLocalPort()};
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }
}
