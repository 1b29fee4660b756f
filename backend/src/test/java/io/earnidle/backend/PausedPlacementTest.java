package io.earnidle.backend;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A placement paused by its publisher, or suspended because its domain is no longer verified, stops earning
 * through the sessions it already has (issue 23, docs/security.md): their polls get no job while it is so, and
 * earn again once it is active.
 */
class PausedPlacementTest {
    @Test
    void existingSessionsOfAPausedOrSuspendedPlacementGetNoWork() throws Exception {
        Path dir = TestSupport.tempDir();
        try (EarnIdleServer s = EarnIdleServer.start(TestSupport.config(dir, Map.of("server.port", "0",
                "server.host", "127.0.0.1", "earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.sample-rate", "0")))) {
            Api api = new Api(TestSupport.ownClient("http://127.0.0.1:" + s.port()));
            String node = api.register(); // on the demo placement, while it is active
            String job = api.submit("paused", 4).path("id").asText();
            var db = s.backend().database();

            db.execute().dml("UPDATE placements SET status = 'paused' WHERE id = 'demo-placement'");
            Resp paused = api.get("/api/inference/job", node);
            assertEquals(204, paused.status(), paused.text());

            db.execute().dml("UPDATE placements SET status = 'active', suspended_reason = 'domain no longer verified' "
                    + "WHERE id = 'demo-placement'");
            Resp suspended = api.get("/api/inference/job", node);
            assertEquals(204, suspended.status(), suspended.text());
            assertEquals("queued", api.get("/api/jobs/" + job, TestSupport.CUSTOMER_KEY).json().path("status")
                    .asText(), "the job waits for a session that may earn");

            db.execute().dml("UPDATE placements SET suspended_reason = NULL WHERE id = 'demo-placement'");
            assertEquals("accepted", api.complete(node, job).path("status").asText(), "active again: it earns");
            assertLedgerConsistent(db);
        } finally {
            TestSupport.deleteTree(dir);
        }
    }
}
