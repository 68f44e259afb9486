package io.hoist.broker.auth;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The tokens file ({@code --tokens-file}): YAML, a list under {@code tokens}, one entry per token.
 * <pre>
 * tokens:
 *   - name: billing-api                 # shown in logs, never the secret
 *     sha256: 3a7bd3e2…                 # hex SHA-256 of the secret (hoist token create prints it)
 *     roles: [producer]                 # producer, worker, admin (admin may do everything)
 *     queues: ["billing.*"]             # optional glob patterns; default every queue
 * </pre>
 * Read once at start; a mistake stops the start and names the entry.
 */
public final class TokenFile {
    private TokenFile() {
    }

    public static Tokens load(Path file) {
        Object loaded;
        try (Reader r = Files.newBufferedReader(file)) {
            loaded = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read tokens file " + file + ": " + e);
        } catch (YAMLException e) {
            throw new IllegalArgumentException("tokens file " + file + " is not valid YAML: " + e.getMessage());
        }
        try {
            return parse(loaded);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tokens file " + file + ": " + e.getMessage(), e);
        }
    }

    static Tokens parse(Object loaded) {
        if (!(loaded instanceof Map<?, ?> root) || !(root.get("tokens") instanceof List<?> entries)) {
            throw new IllegalArgumentException("expected a mapping with a list under 'tokens:' (see docs/operations.md, Security)");
        }
        List<AccessToken> tokens = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> hashes = new HashSet<>();
        for (int i = 0; i < entries.size(); i++) {
            AccessToken t = entry(i, entries.get(i));
            if (!names.add(t.name())) {
                throw new IllegalArgumentException("tokens[" + i + "]: the name '" + t.name() + "' is used twice");
            }
            if (!hashes.add(HexFormat.of().formatHex(t.sha256()))) {
                throw new IllegalArgumentException("tokens[" + i + "] (" + t.name() + "): the same sha256 as an earlier token");
            }
            tokens.add(t);
        }
        return new Tokens(tokens);
    }

    private static AccessToken entry(int i, Object o) {
        String at = "tokens[" + i + "]";
        if (!(o instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(at + ": expected a mapping with name, sha256, roles and optional queues");
        }
        for (Object key : m.keySet()) {
            if (!List.of("name", "sha256", "roles", "queues").contains(String.valueOf(key))) {
                throw new IllegalArgumentException(at + ": unknown key '" + key + "' (name, sha256, roles, queues)");
            }
        }
        if (!(m.get("name") instanceof String name) || name.isBlank()) {
            throw new IllegalArgumentException(at + ".name: required, a non-empty string");
        }
        at = at + " (" + name + ")";
        if (!(m.get("sha256") instanceof String hex) || !hex.matches("[0-9a-fA-F]{64}")) {
            throw new IllegalArgumentException(at + ".sha256: required, the 64 hex digits of the secret's SHA-256"
                    + " (hoist token create prints it; never put the secret itself here)");
        }
        Set<Role> roles = EnumSet.noneOf(Role.class);
        for (String r : strings(at + ".roles", m.get("roles"))) {
            try {
                roles.add(Role.parse(r));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(at + ".roles: " + e.getMessage());
            }
        }
        if (roles.isEmpty()) {
            throw new IllegalArgumentException(at + ".roles: required, one or more of producer, worker, admin");
        }
        List<QueuePattern> queues = new ArrayList<>();
        if (m.get("queues") != null) {
            for (String q : strings(at + ".queues", m.get("queues"))) {
                try {
                    queues.add(QueuePattern.of(q));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(at + ".queues: " + e.getMessage());
                }
            }
        }
        return new AccessToken(name, HexFormat.of().parseHex(hex.toLowerCase()), roles, queues);
    }

    private static List<String> strings(String at, Object o) {
        if (o instanceof String s) {
            return List.of(s);
        }
        if (o instanceof List<?> l && l.stream().allMatch(x -> x instanceof String)) {
            return l.stream().map(String.class::cast).toList();
        }
        throw new IllegalArgumentException(at + ": expected a list of strings, like [a, b]");
    }

    /** The YAML of one entry, to paste under {@code tokens:}. */
    public static String entry(String name, String sha256Hex, Set<Role> roles, List<QueuePattern> queues) {
        StringBuilder b = new StringBuilder()
                .append("  - name: ").append(quote(name)).append('\n')
                .append("    sha256: ").append(sha256Hex).append('\n')
                .append("    roles: [").append(roles.stream().sorted().map(Role::label).collect(Collectors.joining(", "))).append("]\n");
        if (!queues.isEmpty()) {
            b.append("    queues: [").append(queues.stream().map(q -> quote(q.glob())).collect(Collectors.joining(", "))).append("]\n");
        }
        return b.toString();
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "''") + "'";
    }
}
