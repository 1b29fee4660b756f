package io.earnidle.backend.receipts;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Json;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./earnidle keys rotate | list} on an embedded H2 store. */
class ReceiptKeysCliTest {
    private record Run(int status, String out, String err) {
    }

    private static Run run(Config config, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ReceiptKeysCli.run(args, config, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void rotateAddsAKeyAndEndsThePeriodOfTheOldOne(@TempDir Path dir) throws Exception {
        Config config = Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                .addSource(ConfigSources.create(Map.of("earnidle.data-dir", dir.toString(),
                        "earnidle.receipts.rotation-overlap-seconds", "0")))
                .addSource(ConfigSources.classpath("application.yaml")).build();
        assertEquals(2, run(config).status());
        assertEquals(2, run(config, "shred").status());
        assertEquals("{\"keys\":[]}", Json.parse(run(config, "list").out()).toString());

        Run first = run(config, "rotate");
        assertEquals(0, first.status(), first.err());
        Run second = run(config, "rotate");
        assertEquals(0, second.status(), second.err());
        JsonNode keys = Json.parse(second.out().substring(second.out().indexOf('{'))).path("keys");
        assertEquals(2, keys.size(), second.out());
        assertTrue(keys.get(0).has("exp"), "the first key's period ended: " + keys);
        assertFalse(keys.get(1).has("exp"));
        for (JsonNode k : keys) {
            assertTrue(Files.isRegularFile(dir.resolve("receipt-keys").resolve(k.path("kid").asText() + ".key")));
        }
    }

    @Test
    void aConfiguredKeyFileIsNotRotated(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("receipt.key"), "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\n");
        Config config = Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                .addSource(ConfigSources.create(Map.of("earnidle.data-dir", dir.toString(),
                        "earnidle.receipts.key-file", file.toString())))
                .addSource(ConfigSources.classpath("application.yaml")).build();
        Run r = run(config, "rotate");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("earnidle.receipts.key-file"), r.err());
    }
}
