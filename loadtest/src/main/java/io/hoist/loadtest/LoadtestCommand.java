package io.hoist.loadtest;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The hoist-loadtest command: one subcommand per scenario of docs/benchmarks.md. */
@Command(name = "hoist-loadtest", mixinStandardHelpOptions = true, version = "hoist-loadtest 0.1.0",
        description = "Load scenarios against a running Hoist broker: a progress bar on stderr, a summary on stdout.",
        subcommands = {EnqueueCommand.class, DrainCommand.class, LatencyCommand.class, ChaosCommand.class,
                SoakCommand.class, ChaosWorkerCommand.class, BacklogCommand.class})
public final class LoadtestCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        // no scenario named: say which there are
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    public static CommandLine commandLine() {
        return new CommandLine(new LoadtestCommand());
    }

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        // gRPC's and the SDK's non-daemon threads are closed by then, but do not let a stray one hold the JVM
        System.exit(code);
    }
}
