package io.hoist.broker.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code hoist}: the broker and the tools that talk to it. */
@Command(name = "hoist",
        mixinStandardHelpOptions = true,
        versionProvider = HoistCommand.Version.class,
        description = "Hoist, a durable task broker: producers enqueue jobs over gRPC, workers lease them.",
        subcommands = {ServeCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Start a broker with defaults: hoist serve", "Every serve flag also reads a HOIST_* variable (see hoist serve --help)."})
public final class HoistCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new HoistCommand()).execute(args));
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = HoistCommand.class.getPackage().getImplementationVersion();
            return new String[] {"hoist " + (v == null ? "(development build)" : v)};
        }
    }
}
