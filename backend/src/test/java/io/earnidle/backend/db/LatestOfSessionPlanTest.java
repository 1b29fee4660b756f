package io.earnidle.backend.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

import io.earnidle.backend.settings.Settings;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads of "the latest row of a session", run for every lease and every receipt, read one row on the embedded H2
 * store, however long the session has worked (V24): H2's plan reads their index in order, not every row of the
 * session and then a sort. H2 chooses that order from the shape of the statement and the indexes, not from row
 * counts, so the plan of an empty store is the plan of a full one.
 */
class LatestOfSessionPlanTest {
    private Path dir;
    private Config config;
    private Database db;

    @BeforeEach
    void open() throws IOException {
        dir = Files.createTempDirectory("earnidle-plan");
        config = Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                .addSource(ConfigSources.create(Map.of("earnidle.data-dir", dir.toString())))
                .addSource(ConfigSources.classpath("application.yaml")).build();
        db = Database.open(config.get("db"), Settings.from(config.get("earnidle")));
    }

    @AfterEach
    void close() throws IOException {
        db.close();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"rc-chain-head", "lease-last-result-on-model"})
    void readsTheSessionsIndexInOrder(String statement) {
        String sql = config.get("db.statements." + statement).asString().get();
        Object[] params = sql.chars().filter(c -> c == '?').mapToObj(c -> "ns_x").toArray();
        String plan = db.execute().get("EXPLAIN " + sql, params)
                .map(r -> r.column(1).as(String.class).get()).orElseThrow();
        assertTrue(plan.contains("/* index sorted */"), statement + " sorts the session's rows:\n" + plan);
    }
}
