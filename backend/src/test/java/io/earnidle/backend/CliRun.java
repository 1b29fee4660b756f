package io.earnidle.backend;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

/** Runs a command-line tool of the backend in a test: its config on a data directory, its exit status and output. */
public final class CliRun {
    /** A tool's entry point, as {@code CustomerCli.run} and {@code ModelCatalogCli.run}. */
    @FunctionalInterface
    public interface Cli {
        int run(String[] args, Config config, PrintStream out, PrintStream err);
    }

    /** What a run printed and returned. */
    public record Result(int status, String out, String err) {
    }

    private CliRun() {
    }

    /** The classpath application.yaml with {@code earnidle.data-dir} set to {@code dataDir} (embedded H2 there). */
    public static Config config(Path dataDir) {
        return Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                .addSource(ConfigSources.create(Map.of("earnidle.data-dir", dataDir.toString())))
                .addSource(ConfigSources.classpath("application.yaml")).build();
    }

    /** Runs {@code cli} with {@code args} under {@code config}. */
    public static Result run(Cli cli, Config config, String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int status = cli.run(args, config, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Result(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    /** Deletes the data directory and everything in it. */
    public static void deleteTree(Path dir) throws IOException {
        TestSupport.deleteTree(dir);
    }
}
