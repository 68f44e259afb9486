package io.hoist.loadtest;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The worker JVMs of {@code chaos}: {@code chaos-worker} processes started from this program's own
 * class path. Slot {@code wN} may be killed and refilled; each incarnation logs to its own file
 * ({@code worker-wN-K.log}, its stderr to {@code .out}). Driven by one thread.
 */
final class WorkerFleet implements AutoCloseable {
    private final Path dir;
    private final String target;
    private final String queue;
    private final int concurrency;
    private final int workMillis;
    private final List<Process> slots = new ArrayList<>();
    private final List<Integer> incarnations = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();
    private int kills;

    private final String classPath;

    WorkerFleet(Path dir, String target, String queue, int concurrency, int workMillis) throws IOException {
        this.dir = dir;
        this.classPath = ownClassPath(dir);
        this.target = target;
        this.queue = queue;
        this.concurrency = concurrency;
        this.workMillis = workMillis;
    }

    void start(int workers) throws IOException {
        for (int i = 0; i < workers; i++) {
            slots.add(null);
            incarnations.add(0);
            launch(i);
        }
    }

    private void launch(int slot) throws IOException {
        int incarnation = incarnations.get(slot) + 1;
        incarnations.set(slot, incarnation);
        String name = "w" + (slot + 1) + "-" + incarnation;
        Path log = dir.resolve("worker-" + name + ".log");
        logs.add(log);
        List<String> cmd = List.of(
                ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()),
                "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", classPath, LoadtestCommand.class.getName(), "chaos-worker",
                "--broker", target, "--queue", queue, "--name", "chaos-" + name, "--log", log.toString(),
                "--concurrency", Integer.toString(concurrency), "--work-ms", Integer.toString(workMillis));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("worker-" + name + ".out").toFile())).start();
        slots.set(slot, p);
    }

    /**
     * The class path for the worker JVMs: this program's own. When that is the packaged jar, a copy
     * in {@code dir}, so that a rebuild during the run cannot swap classes under the workers.
     */
    private static String ownClassPath(Path dir) throws IOException {
        String classPath = System.getProperty("java.class.path");
        try {
            Path own = Path.of(LoadtestCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isRegularFile(own) && own.equals(Path.of(classPath).toAbsolutePath())) {
                return Files.copy(own, dir.resolve("hoist-loadtest.jar"), StandardCopyOption.REPLACE_EXISTING).toString();
            }
        } catch (URISyntaxException | RuntimeException e) {
            // not a jar of ours: use the class path as it is (tests)
        }
        return classPath;
    }

    /** kill -9 of a worker picked by {@code random}, and a fresh JVM in its slot at once. */
    void killOneAndReplace(Random random) throws IOException, InterruptedException {
        int slot = random.nextInt(slots.size());
        Process p = slots.get(slot);
        p.destroyForcibly(); // SIGKILL: its leases come back only when its session times out
        p.waitFor(30, TimeUnit.SECONDS);
        kills++;
        launch(slot);
    }

    int kills() {
        return kills;
    }

    /** Every log written so far, of live and killed workers. */
    List<Path> logs() {
        return List.copyOf(logs);
    }

    /** SIGTERM to every worker (finish running jobs, deregister), then SIGKILL to any still there after 30 s. */
    @Override
    public void close() throws InterruptedException {
        stopAll();
        try {
            Files.deleteIfExists(dir.resolve("hoist-loadtest.jar")); // the copy, if one was made
        } catch (IOException e) {
            // a leftover copy in a run directory does no harm
        }
    }

    private void stopAll() throws InterruptedException {
        for (Process p : slots) {
            if (p != null && p.isAlive()) p.destroy();
        }
        for (Process p : slots) {
            if (p != null && !p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
