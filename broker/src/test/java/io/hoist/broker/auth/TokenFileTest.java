package io.hoist.broker.auth;

import io.hoist.broker.config.SecurityConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The tokens file, queue patterns, and the start-up warning, without a broker. */
class TokenFileTest {
    @TempDir
    Path dir;

    static Tokens parse(String yaml) {
        return TokenFile.parse(new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml));
    }

    @Test
    void anEntryMadeByEntry_findsItsSecret_andNoOther() {
        String secret = Tokens.newSecret(new SecureRandom());
        Tokens tokens = parse("tokens:\n" + TokenFile.entry("mailer", Tokens.sha256Hex(secret), Set.of(Role.WORKER, Role.PRODUCER),
                List.of(QueuePattern.of("emails.*"), QueuePattern.of("sms"))));
        AccessToken t = tokens.find(secret).orElseThrow();
        assertThat(t.name()).isEqualTo("mailer");
        assertThat(t.roles()).containsExactlyInAnyOrder(Role.WORKER, Role.PRODUCER);
        assertThat(t.has(Role.ADMIN)).isFalse();
        assertThat(t.mayUse("emails.welcome")).isTrue();
        assertThat(t.mayUse("sms")).isTrue();
        assertThat(t.mayUse("sms2")).isFalse();
        assertThat(t.mayUse("emails")).isFalse();
        assertThat(tokens.find(secret + "x")).isEmpty();
        assertThat(tokens.find("")).isEmpty();
        assertThat(secret).startsWith("hoist_").hasSizeGreaterThan(40);
        assertThat(t.toString()).doesNotContain(Tokens.sha256Hex(secret));
    }

    @Test
    void adminHasEveryRole_andNoQueuesMeansEveryQueue() {
        Tokens tokens = parse("tokens:\n  - name: ops\n    sha256: " + Tokens.sha256Hex("s") + "\n    roles: admin\n");
        AccessToken ops = tokens.find("s").orElseThrow();
        assertThat(ops.has(Role.PRODUCER)).isTrue();
        assertThat(ops.has(Role.WORKER)).isTrue();
        assertThat(ops.limitedToQueues()).isFalse();
        assertThat(ops.mayUse("anything")).isTrue();
    }

    @Test
    void queuePatterns_globOnlyStarAndQuestionMark() {
        assertThat(QueuePattern.of("a.?").matches("a.b")).isTrue();
        assertThat(QueuePattern.of("a.?").matches("a.bc")).isFalse();
        assertThat(QueuePattern.of("a.b").matches("aXb")).isFalse(); // '.' is a dot, not a regex wildcard
        assertThat(QueuePattern.of("*").matches("x-y_z.1")).isTrue();
        assertThatThrownBy(() -> QueuePattern.of("a[b]")).hasMessageContaining("wildcards");
    }

    @Test
    void mistakes_nameTheEntryAndWhatToDo() {
        String hash = Tokens.sha256Hex("s");
        assertThatThrownBy(() -> parse("- name: x")).hasMessageContaining("'tokens:'");
        assertThatThrownBy(() -> parse("tokens:\n  - name: x\n    sha256: " + hash + "\n    roles: [boss]\n"))
                .hasMessageContaining("tokens[0] (x).roles").hasMessageContaining("producer, worker or admin");
        assertThatThrownBy(() -> parse("tokens:\n  - name: x\n    sha256: hoist_secret\n    roles: [admin]\n"))
                .hasMessageContaining("tokens[0] (x).sha256").hasMessageContaining("never put the secret");
        assertThatThrownBy(() -> parse("tokens:\n  - name: x\n    sha256: " + hash + "\n    roles: []\n"))
                .hasMessageContaining("roles: required");
        assertThatThrownBy(() -> parse("tokens:\n  - name: x\n    sha256: " + hash + "\n    roles: [admin]\n"
                + "  - name: x\n    sha256: " + Tokens.sha256Hex("t") + "\n    roles: [admin]\n"))
                .hasMessageContaining("tokens[1]").hasMessageContaining("used twice");
        assertThatThrownBy(() -> parse("tokens:\n  - name: x\n    sha256: " + hash + "\n    roles: [admin]\n    queue: [a]\n"))
                .hasMessageContaining("unknown key 'queue'");
    }

    @Test
    void load_namesTheFile() throws Exception {
        Path f = Files.writeString(dir.resolve("t.yaml"), "tokens: {");
        assertThatThrownBy(() -> TokenFile.load(f)).hasMessageContaining(f.toString()).hasMessageContaining("not valid YAML");
        assertThatThrownBy(() -> TokenFile.load(dir.resolve("missing.yaml"))).hasMessageContaining("cannot read tokens file");
    }

    @Test
    void exposureWarnings_onlyBeyondLoopback_andOnlyForWhatIsMissing() {
        SecurityConfig open = SecurityConfig.OPEN;
        SecurityConfig both = open.withTls(dir.resolve("c"), dir.resolve("k"), null).withTokens(dir.resolve("t"), false);
        assertThat(ExposureWarnings.of("127.0.0.1", open)).isEmpty();
        assertThat(ExposureWarnings.of("localhost", open)).isEmpty();
        assertThat(ExposureWarnings.of("0.0.0.0", open)).hasSize(2)
                .anyMatch(w -> w.contains("WITHOUT AUTHENTICATION") && w.contains("--tokens-file"))
                .anyMatch(w -> w.contains("WITHOUT TLS") && w.contains("--tls-cert"));
        assertThat(ExposureWarnings.of("0.0.0.0", open.withTokens(dir.resolve("t"), false))).singleElement()
                .asString().contains("WITHOUT TLS");
        assertThat(ExposureWarnings.of("0.0.0.0", both)).isEmpty();
    }
}
