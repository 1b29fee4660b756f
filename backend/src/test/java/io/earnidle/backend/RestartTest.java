package io.earnidle.backend;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.ledger.Ledger;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The H2 file keeps jobs, sessions and balances across a restart; seeding does not fund the customer twice. */
class RestartTest {

    @Test
    void stateSurvivesARestart() throws Exception {
        Path dir = TestSupport.tempDir();
        try {
            var config = TestSupport.config(dir, Map.of("server.port", "0", "server.host", "127.0.0.1",
                    // synthetic results, paid unverified and at once, as before verification (docs/trust.md)
                    "earnidle.ledger.verification-window-seconds", "0", "earnidle.trust.sample-rate", "0"));
            String token;
            String jobId;
            long payout;
            String modelSha;
            try (EarnIdleServer server = EarnIdleServer.start(config)) {
                assertTrue(server.port() > 0);
                Api api = api(server);
                token = api.register();
                jobId = api.submit("persist", 4).path("id").asText();
                payout = api.complete(token, jobId).path("payout_micro_usdc").asLong();
                modelSha = api.get("/api/models", null).json().path("models").get(0).path("sha256").asText();
            }
            assertTrue(Files.isRegularFile(dir.resolve("models/synthetic-tiny-f32.gguf")));
            try (EarnIdleServer server = EarnIdleServer.start(config)) {
                Api api = api(server);
                JsonNode job = api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json();
                assertEquals("completed", job.path("status").asText());
                assertEquals(" abc", job.path("result").path("text").asText());
                JsonNode me = api.get("/api/nodes/me", token).json();
                assertEquals(payout, me.path("balance_micro_usdc").asLong());
                assertEquals(1, me.path("jobs_completed").asInt());
                // charged per token: the fee and the 3 tokens produced (Api.resultBody), not all 4 of max_tokens
                assertEquals(200 + 60 * 3, job.path("charged_micro_usdc").asLong());
                assertEquals(100_000_000 - (200 + 60 * 3),
                        TestSupport.balance(server.backend().database(), Ledger.accountId("customer", "demo-customer")));
                assertEquals(modelSha, api.get("/api/models", null).json().path("models").get(0).path("sha256")
                        .asText());
                assertLedgerConsistent(server.backend().database());
            }
        } finally {
            TestSupport.deleteTree(dir);
        }
    }

    private static Api api(EarnIdleServer server) {
        return new Api(TestSupport.ownClient("http://127.0.0.1:" + server.port()));
    }
}
