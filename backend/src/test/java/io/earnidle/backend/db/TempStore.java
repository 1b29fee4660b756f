package io.earnidle.backend.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import io.earnidle.backend.settings.Settings;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

/**
 * A store of its own for a test that needs the database without a server: a new temporary data directory, the
 * shipped {@code application.yaml} with the given settings over it (neither the environment nor system properties),
 * the database opened and migrated. {@link #close} closes it and deletes the directory.
 */
public final class TempStore implements AutoCloseable {
    private final Path dir;
    private final Config config;
    private final Database db;

    private TempStore(Path dir, Config config, Database db) {
        this.dir = dir;
        this.config = config;
        this.db = db;
    }

    /** A store in a new directory named {@code prefix...}, with {@code settings} over the shipped configuration. */
    public static TempStore open(String prefix, Map<String, String> settings) throws IOException {
        return open(prefix, dir -> settings);
    }

    /** As above, with settings that name the new directory ({@code settingsIn} is given it). */
    public static TempStore open(String prefix, Function<Path, Map<String, String>> settingsIn) throws IOException {
        Path dir = Files.createTempDirectory(prefix);
        Map<String, String> values = new HashMap<>(settingsIn.apply(dir));
        values.putIfAbsent("earnidle.data-dir", dir.toString());
        Config config = Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                .addSource(ConfigSources.create(values))
                .addSource(ConfigSources.classpath("application.yaml")).build();
        return new TempStore(dir, config, Database.open(config.get("db"), Settings.from(config.get("earnidle"))));
    }

    public static TempStore open(String prefix) throws IOException {
        return open(prefix, Map.of());
    }

    public Path dir() {
        return dir;
    }

    public Config config() {
        return config;
    }

    public Settings settings() {
        return Settings.from(config.get("earnidle"));
    }

    public Database db() {
        return db;
    }

    @Override
    public void close() throws IOException {
        db.close();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
