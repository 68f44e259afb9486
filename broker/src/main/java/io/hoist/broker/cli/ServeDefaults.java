package io.hoist.broker.cli;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import picocli.CommandLine;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where {@code hoist serve} takes a setting not given as a flag: its {@code HOIST_*} variable,
 * then the config file ({@code --config FILE} or {@code HOIST_CONFIG}), then the built-in
 * default. The file is YAML with the flags' names as keys: {@code grpc-port: 7070}.
 */
final class ServeDefaults implements CommandLine.IDefaultValueProvider {
    private final Map<String, String> env;
    private final Path file;
    private Map<String, Object> fileValues;

    /** @param args the whole command line, searched for {@code --config} before picocli parses it */
    ServeDefaults(List<String> args, Map<String, String> env) {
        this.env = env;
        this.file = configFile(args, env);
    }

    static String envName(String longFlag) {
        return "HOIST_" + longFlag.replaceFirst("^--", "").replace('-', '_').toUpperCase(Locale.ROOT);
    }

    @Override
    public String defaultValue(CommandLine.Model.ArgSpec arg) {
        if (!(arg instanceof CommandLine.Model.OptionSpec option) || !option.longestName().startsWith("--")
                || option.longestName().equals("--config") || option.usageHelp() || option.versionHelp()) {
            return null;
        }
        String fromEnv = env.get(envName(option.longestName()));
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return fromEnv;
        }
        Object fromFile = fileValues().get(option.longestName().substring(2));
        return fromFile == null ? null : String.valueOf(fromFile);
    }

    private Map<String, Object> fileValues() {
        if (fileValues == null) {
            fileValues = file == null ? Map.of() : read(file);
        }
        return fileValues;
    }

    private static Map<String, Object> read(Path file) {
        try (Reader r = Files.newBufferedReader(file)) {
            Object loaded = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
            if (loaded == null) {
                return Map.of();
            }
            if (!(loaded instanceof Map<?, ?> map)) {
                throw new CommandLine.InitializationException("config file " + file
                        + " must be a YAML mapping of flag names to values, like 'grpc-port: 7070'");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> values = (Map<String, Object>) map;
            return values;
        } catch (IOException e) {
            throw new CommandLine.InitializationException("cannot read config file " + file + ": " + e.getMessage());
        } catch (org.yaml.snakeyaml.error.YAMLException e) {
            throw new CommandLine.InitializationException("config file " + file + " is not valid YAML: " + e.getMessage());
        }
    }

    /** The keys of the file, to refuse unknown ones (a typo should not be silently ignored). */
    java.util.Set<String> fileKeys() {
        return fileValues().keySet();
    }

    Path file() {
        return file;
    }

    private static Path configFile(List<String> args, Map<String, String> env) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--config") && i + 1 < args.size()) {
                return Path.of(args.get(i + 1));
            }
            if (a.startsWith("--config=")) {
                return Path.of(a.substring("--config=".length()));
            }
        }
        String fromEnv = env.get("HOIST_CONFIG");
        return fromEnv == null || fromEnv.isEmpty() ? null : Path.of(fromEnv);
    }
}
