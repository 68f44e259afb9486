package io.hoist.broker.auth;

import io.hoist.broker.cli.HoistCommand;
import io.hoist.broker.config.SecurityConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line's side of security: minting tokens, the serve flags, and client commands with --token and TLS. */
class CliAuthTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    static Run hoist(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = HoistCommand.commandLine(List.of(args), env);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** Runs {@code hoist token create} and returns {secret, tokens-file entry}. */
    static String[] mint(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "token";
        all[1] = "create";
        System.arraycopy(args, 0, all, 2, args.length);
        Run r = hoist(Map.of(), all);
        assertThat(r.exit()).as(r.err()).isZero();
        String secret = r.out().lines().map(String::trim).filter(l -> l.startsWith("hoist_")).findFirst().orElseThrow();
        String entry = r.out().substring(r.out().indexOf("  - name:"));
        return new String[]{secret, entry};
    }

    @Test
    void tokenCreate_printsTheSecretOnce_andAnEntryThatAcceptsIt() throws Exception {
        String[] minted = mint("--name", "mailer", "--role", "worker,producer", "--queue", "emails.*");
        assertThat(minted[1]).doesNotContain(minted[0]).contains("sha256: " + Tokens.sha256Hex(minted[0]));
        Path file = Files.writeString(dir.resolve("tokens.yaml"), "tokens:\n" + minted[1]);
        AccessToken t = TokenFile.load(file).find(minted[0]).orElseThrow();
        assertThat(t.name()).isEqualTo("mailer");
        assertThat(t.roles()).containsExactlyInAnyOrder(Role.WORKER, Role.PRODUCER);
        assertThat(t.mayUse("emails.x")).isTrue();
        assertThat(t.mayUse("billing")).isFalse();
        assertThat(mint("--name", "other", "--role", "admin")[0]).isNotEqualTo(minted[0]);
    }

    @Test
    void tokenCreate_refusesAnUnknownRole() {
        Run r = hoist(Map.of(), "token", "create", "--name", "x", "--role", "root");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("unknown role 'root'");
    }

    @Test
    void serveFlags_readTheEnvironment_andCheckTheirCombinations() {
        Run printed = hoist(Map.of("HOIST_TOKENS_FILE", "/etc/hoist/tokens.yaml", "HOIST_MAX_CONNECTIONS", "50",
                "HOIST_METRICS_AUTH", "true"), "serve", "--print-config");
        assertThat(printed.exit()).isZero();
        assertThat(printed.out()).contains("tokens-file: /etc/hoist/tokens.yaml", "max-connections: 50",
                "metrics-auth: true", "max-concurrent-streams: 1000", "tls-cert: \n");

        Run metricsOnly = hoist(Map.of(), "serve", "--data-dir", dir.resolve("d").toString(), "--metrics-auth");
        assertThat(metricsOnly.exit()).isEqualTo(2);
        assertThat(metricsOnly.err()).contains("--metrics-auth needs --tokens-file");
        Run keyless = hoist(Map.of(), "serve", "--data-dir", dir.resolve("d").toString(), "--tls-cert", "c.pem");
        assertThat(keyless.exit()).isEqualTo(2);
        assertThat(keyless.err()).contains("--tls-cert and --tls-key go together");
    }

    @Test
    void clientCommands_sendTheTokenOverTls() throws Exception {
        TestPki pki = TestPki.create(dir);
        String[] ops = mint("--name", "ops", "--role", "admin");
        String[] producer = mint("--name", "app", "--role", "producer");
        Path tokens = Files.writeString(dir.resolve("tokens.yaml"), "tokens:\n" + ops[1] + producer[1]);
        try (SecureBroker broker = SecureBroker.start(dir.resolve("data"),
                SecurityConfig.OPEN.withTls(pki.serverCert, pki.serverKey, null).withTokens(tokens, false))) {
            String target = "--broker=localhost:" + broker.grpcPort();
            String ca = "--tls-ca=" + pki.caCert;

            Run enqueued = hoist(Map.of(), "enqueue", "mail", "send", "{}", target, ca, "--token", producer[0]);
            assertThat(enqueued.exit()).as(enqueued.err()).isZero();
            Run queues = hoist(Map.of(), "queues", target, ca, "--token", ops[0], "--json");
            assertThat(queues.exit()).as(queues.err()).isZero();
            assertThat(queues.out()).contains("\"mail\"");

            Run anonymous = hoist(Map.of(), "queues", target, ca);
            assertThat(anonymous.exit()).isEqualTo(1);
            assertThat(anonymous.err()).contains("UNAUTHENTICATED", "HOIST_TOKEN");
            Run producerAsAdmin = hoist(Map.of(), "queues", target, ca, "--token", producer[0]);
            assertThat(producerAsAdmin.exit()).isEqualTo(1);
            assertThat(producerAsAdmin.err()).contains("PERMISSION_DENIED");
            Run plaintext = hoist(Map.of(), "queues", target, "--token", ops[0]);
            assertThat(plaintext.exit()).isEqualTo(1);
            assertThat(plaintext.err()).contains("--tls-ca");
        }
    }
}
