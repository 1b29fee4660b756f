package io.earnidle.backend;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

import io.earnidle.testsupport.PostgresCluster;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs only in the backend's PostgreSQL surefire run (see backend/pom.xml): proves that run really stores in
 * PostgreSQL. The migrations are recorded by Flyway in the server's database and a job submitted through the API is
 * a row there.
 */
class PostgresStoreTest {

    @Test
    void theStoreIsPostgresql() throws Exception {
        assertTrue(PostgresCluster.active(), "run with -Dearnidle.test.store=postgres (surefire execution postgres-store)");
        Path dir = TestSupport.tempDir();
        try {
            Map<String, String> extra = new HashMap<>(Map.of("server.port", "0", "server.host", "127.0.0.1",
                    // synthetic results, paid unverified and at once, as before verification (docs/trust.md)
                    "earnidle.ledger.verification-window-seconds", "0", "earnidle.trust.sample-rate", "0"));
            var config = TestSupport.config(dir, extra);
            String url = PostgresCluster.storeConfig(dir).get("db.connection.url");
            assertTrue(url.startsWith("jdbc:postgresql://127.0.0.1:"), url);
            String jobId;
            try (EarnIdleServer server = EarnIdleServer.start(config)) {
                Api api = new Api(TestSupport.ownClient("http://127.0.0.1:" + server.port()));
                jobId = api.submit("stored in postgres", 4).path("id").asText();
                TestSupport.assertLedgerConsistent(server.backend().database());
            }
            try (Connection c = DriverManager.getConnection(url, PostgresCluster.USER, "");
                 Statement s = c.createStatement()) {
                try (ResultSet r = s.executeQuery("SELECT version()")) {
                    assertTrue(r.next() && r.getString(1).startsWith("PostgreSQL"), "server is PostgreSQL");
                }
                try (ResultSet r = s.executeQuery(
                        "SELECT count(*), bool_and(success) FROM flyway_schema_history WHERE version IS NOT NULL")) {
                    assertTrue(r.next());
                    assertEquals(migrationCount(), r.getInt(1), "every migration applied");
                    assertTrue(r.getBoolean(2), "every migration succeeded");
                }
                try (ResultSet r = s.executeQuery("SELECT count(*) FROM jobs WHERE id = '" + jobId.replace("'", "") + "'")) {
                    assertTrue(r.next());
                    assertEquals(1, r.getInt(1), "the submitted job is a row in PostgreSQL");
                }
            }
        } finally {
            TestSupport.deleteTree(dir);
        }
    }

    private static int migrationCount() throws Exception {
        var url = PostgresStoreTest.class.getResource("/db/migration");
        assertTrue(url != null && "file".equals(url.getProtocol()), "migrations on the test classpath as files");
        try (var files = java.nio.file.Files.list(Path.of(url.toURI()))) {
            return (int) files.filter(p -> p.getFileName().toString().matches("V\\d+__.*\\.sql")).count();
        }
    }
}
