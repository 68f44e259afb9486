package io.hoist.broker.cli;

import io.hoist.broker.auth.QueuePattern;
import io.hoist.broker.auth.Role;
import io.hoist.broker.auth.TokenFile;
import io.hoist.broker.auth.Tokens;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code hoist token create}: mints a token for the broker's {@code --tokens-file}. */
@Command(name = "token", mixinStandardHelpOptions = true,
        description = "Tokens for a broker started with --tokens-file.",
        subcommands = {TokenCommand.Create.class})
final class TokenCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Makes a new random secret and prints it once, with the entry to add under 'tokens:'"
                    + " in the broker's --tokens-file (which holds only the secret's SHA-256). Restart the broker"
                    + " to load it. Give the secret to the client: --token or HOIST_TOKEN for the CLI, token(...)"
                    + " in the SDK.",
            footer = {"", "Roles:",
                    "  producer  JobService: Enqueue, GetJob, CancelJob",
                    "  worker    WorkerService: Register, Heartbeat, Lease, Ack, Nack, Deregister",
                    "  admin     everything, with AdminService and /metrics (--metrics-auth)",
                    "Example: hoist token create --name mailer --role worker --queue 'emails.*'"})
    static final class Create implements Callable<Integer> {
        @Option(names = "--name", required = true, paramLabel = "NAME",
                description = "Names the token in the broker's logs (say who holds it: 'billing-api').")
        String name;

        @Option(names = "--role", required = true, paramLabel = "ROLE", split = ",",
                description = "producer, worker or admin (repeatable, or comma-separated).")
        List<String> roles = new ArrayList<>();

        @Option(names = "--queue", paramLabel = "PATTERN",
                description = "Limit the token to queues matching this glob ('*' any run, '?' one character); repeatable. Default: every queue.")
        List<String> queues = new ArrayList<>();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            if (name.isBlank()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--name must not be empty");
            }
            Set<Role> parsedRoles = EnumSet.noneOf(Role.class);
            List<QueuePattern> patterns = new ArrayList<>();
            try {
                roles.forEach(r -> parsedRoles.add(Role.parse(r)));
                queues.forEach(q -> patterns.add(QueuePattern.of(q)));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            String secret = Tokens.newSecret(new SecureRandom());
            PrintWriter out = spec.commandLine().getOut();
            out.println("Secret of token '" + name + "' (shown only now: keep it in a secret store;");
            out.println("clients send it as --token, HOIST_TOKEN or the SDK's token(...)):");
            out.println();
            out.println("  " + secret);
            out.println();
            out.println("Add under 'tokens:' in the broker's --tokens-file, then restart the broker:");
            out.println();
            out.print(TokenFile.entry(name, Tokens.sha256Hex(secret), parsedRoles, patterns));
            out.flush();
            return 0;
        }
    }
}
