package io.earnidle.backend;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

import io.earnidle.backend.demo.Deployment;
import io.earnidle.backend.http.Ids;
import io.helidon.config.Config;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Demo only in demo mode: {@code earnidle.mode: demo} (the default) seeds the README's demo data; {@code production}
 * seeds nothing, and refuses to start on a database holding demo data, without an https public origin, or with
 * real-money payouts signed for a test chain.
 */
class DeploymentModeTest {
    private Path dataDir;

    @BeforeEach
    void dir() {
        dataDir = TestSupport.tempDir();
    }

    @AfterEach
    void clean() throws Exception {
        TestSupport.deleteTree(dataDir);
    }

    private Backend start(Map<String, String> settings) {
        return Backend.create(TestSupport.config(dataDir, settings), Clock.systemUTC());
    }

    private static Map<String, String> production(String... more) {
        Map<String, String> m = new HashMap<>(Map.of("earnidle.mode", "production",
                "earnidle.public-origin", "https://earnidle.example"));
        for (int i = 0; i < more.length; i += 2) {
            m.put(more[i], more[i + 1]);
        }
        return m;
    }

    /** The demo rows present: demo customer, publisher, placement, and API keys (each 0 or 1 here). */
    private static String demoRows(Backend b) {
        return count(b.database(), "SELECT COUNT(*) AS n FROM customers WHERE id = 'demo-customer'") + " "
                + count(b.database(), "SELECT COUNT(*) AS n FROM publishers WHERE id = 'demo-publisher'") + " "
                + count(b.database(), "SELECT COUNT(*) AS n FROM placements WHERE id = 'demo-placement'") + " "
                + count(b.database(), "SELECT COUNT(*) AS n FROM api_keys");
    }

    @Test
    void productionSeedsNothingAndDemoSeedsTheDemo() {
        try (Backend b = start(production())) {
            assertEquals("0 0 0 0", demoRows(b));
            // the platform's own accounts exist: deposits and fees have somewhere to go
            assertEquals(1, count(b.database(), "SELECT COUNT(*) AS n FROM ledger_accounts WHERE id = ?",
                    io.earnidle.backend.ledger.Ledger.DEPOSITS_ACCOUNT));
        }
        Path demoDir = TestSupport.tempDir();
        try (Backend b = Backend.create(TestSupport.config(demoDir, Map.of()), Clock.systemUTC())) {
            assertEquals("1 1 1 1", demoRows(b), "demo publisher, placement, customer and its key");
        } finally {
            deleteQuietly(demoDir);
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            TestSupport.deleteTree(dir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void productionRefusesADatabaseThatWasServedAsTheDemo() {
        start(Map.of()).close();
        Deployment.Refused e = assertThrows(Deployment.Refused.class, () -> start(production()));
        assertTrue(e.getMessage().contains("demo data"), e.getMessage());
        assertTrue(e.getMessage().contains("customer demo-customer"), e.getMessage());
        assertTrue(e.getMessage().contains("fresh database"), e.getMessage());
    }

    @Test
    void productionRefusesTheDemoKeyEvenOnAnotherCustomer() {
        try (Backend b = start(production())) {
            b.database().execute().insert("INSERT INTO customers (id, name, created_at)"
                    + " VALUES ('cus_x', 'X', CURRENT_TIMESTAMP)");
            b.database().execute().insert("INSERT INTO api_keys (id, customer_id, name, prefix, key_sha256,"
                    + " created_at) VALUES ('key_x', 'cus_x', 'x', '', ?, CURRENT_TIMESTAMP)",
                    Ids.sha256Hex("demo-customer-key"));
        }
        Deployment.Refused e = assertThrows(Deployment.Refused.class, () -> start(production()));
        assertTrue(e.getMessage().contains("the demo key"), e.getMessage());
    }

    @Test
    void productionRefusesUnsafeSettings() {
        Map<String, String> plainHttp = production("earnidle.public-origin", "http://earnidle.example");
        Deployment.Refused e = assertThrows(Deployment.Refused.class, () -> start(plainHttp));
        assertTrue(e.getMessage().contains("must be an https origin"), e.getMessage());

        Map<String, String> noOrigin = production("earnidle.public-origin", "");
        e = assertThrows(Deployment.Refused.class, () -> start(noOrigin));
        assertTrue(e.getMessage().contains("earnidle.public-origin is not set"), e.getMessage());

        Map<String, String> testChain = production("earnidle.payouts.rpc-url", "http://127.0.0.1:1",
                "earnidle.wallets.chain-id", "1337");
        e = assertThrows(Deployment.Refused.class, () -> start(testChain));
        assertTrue(e.getMessage().contains("chain-id is 1337, a test chain"), e.getMessage());
        assertTrue(Files.notExists(dataDir.resolve("earnidle.mv.db")), "refused before the database was opened");

        // demo mode takes the demo's settings as they are
        start(Map.of("earnidle.public-origin", "http://localhost:8080", "earnidle.payouts.rpc-url", "",
                "earnidle.wallets.chain-id", "1337")).close();
    }

    @Test
    void serveReadsTheConfigFileOverTheDefaults() throws Exception {
        Path file = dataDir.resolve("production.yaml");
        Files.writeString(file, """
                earnidle:
                  mode: production
                  public-origin: https://earnidle.example
                  limits:
                    max-tokens: 17
                """);
        Config config = Main.config(new String[] {"--config", file.toString()});
        Deployment d = Deployment.from(config.get("earnidle"));
        assertTrue(d.production());
        assertEquals("https://earnidle.example", d.publicOrigin());
        assertEquals(17, config.get("earnidle.limits.max-tokens").asInt().get());
        assertEquals(65536, config.get("earnidle.limits.max-body-bytes").asInt().get(), "default kept");
        assertThrows(IllegalArgumentException.class, () -> Main.config(new String[] {"--config",
                dataDir.resolve("missing.yaml").toString()}));
        assertThrows(IllegalArgumentException.class, () -> Main.config(new String[] {"--other"}));
    }
}
