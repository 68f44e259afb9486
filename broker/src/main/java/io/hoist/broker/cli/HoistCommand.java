package io.hoist.broker.cli;

import picocli.CommandLine;

import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;

/** {@code hoist}: the broker and the tools that talk to it. */
@Command(name = "hoist",
        mixinStandardHelpOptions = true,
        versionProvider = HoistCommand.Version.class,
        description = "Hoist, a durable task broker: producers enqueue jobs over gRPC, workers lease them.",
        subcommands = {ServeCommand.class, EnqueueCommand.class, JobCommand.class, WorkCommand.class, QueuesCommand.class, QueueCommand.class, DlqCommand.class,
                WorkersCommand.class, StatsCommand.class, BackupCommand.class, TokenCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Start a broker with defaults: hoist serve",
                "Client commands talk to --broker HOST:PORT (env HOIST_BROKER, default localhost:7070).",
                "Exit codes: 0 done, 1 the broker refused or could not be reached, 2 bad usage or a missing --yes."})
public final class HoistCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** gRPC's Netty, relocated: its system properties carry the shaded package name. */
    static final String LEAK_DETECTION = "io.grpc.netty.shaded.io.netty.leakDetection.level";

    public static void main(String[] args) {
        // Netty samples buffer allocations for leak reports with a stack trace each: 3.6 % of the
        // broker's CPU in the enqueue benchmark. Off in the daemon unless -D asks for it; tests keep it.
        if (System.getProperty(LEAK_DETECTION) == null) {
            System.setProperty(LEAK_DETECTION, "disabled");
        }
        System.exit(commandLine(List.of(args), System.getenv()).execute(args));
    }

    /**
     * The whole command tree, ready to execute {@code args}; {@code serve} takes settings it is
     * not given as flags from {@code env} and the config file named in {@code args}.
     */
    public static CommandLine commandLine(List<String> args, Map<String, String> env) {
        CommandLine cl = new CommandLine(new HoistCommand());
        cl.getSubcommands().get("serve").setDefaultValueProvider(new ServeDefaults(args, env));
        return cl;
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
