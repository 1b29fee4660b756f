package io.earnidle.backend;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.verification.ResultVerifier;
import io.earnidle.backend.verification.TrustSettings;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.loop.JobSpec;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A result whose model was retired while it waited for verification stays pending (no money moves) without stopping
 * the queue: a round verifies the other results and ends (it used to take the same unverifiable row again forever).
 */
@ServerTest
class RetiredModelVerificationTest extends BackendServerTest {
    private final Api api;

    RetiredModelVerificationTest(Http1Client client) {
        this.api = new Api(client);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.sample-rate", "1.0",
                "earnidle.trust.verifier-threads", "0"), new TestSupport.MutableClock());
    }

    @Test
    void aRetiredModelsResultWaitsWhileTheOthersAreVerified() throws Exception {
        String token = api.register();
        String retired = api.submit("retired while verifying", 4).path("id").asText();
        LlamaModel model = answer(token, retired, null);
        String kept = api.submit("verified meanwhile", 4).path("id").asText();
        answer(token, kept, model);
        backend.database().execute().insert("INSERT INTO models (id, file_name, sha256, size_bytes, vocab_size,"
                + " context_length, status, created_at) VALUES ('retired-test-model', 'retired.gguf', ?, 1000, 1000,"
                + " 4096, 'retired', CURRENT_TIMESTAMP)", "0".repeat(64));
        backend.database().execute().update("UPDATE jobs SET model_id = 'retired-test-model' WHERE id = ?", retired);

        // what one verification costs here, measured on this thread: the round gets many times that
        JsonNode lease = api.lease(token, api.submit("timing", 4).path("id").asText());
        GenerationRequest request = JobSpec.parse(lease.toString()).toRequest();
        GenerationResult gen = model.generate(request);
        long t0 = System.nanoTime();
        assertTrue(ResultVerifier.verify(model, request, gen.tokenIds(), gen.text(),
                TrustSettings.DEFAULT_MARGINS.get("f32")).passed());
        long budgetNanos = 1_000_000_000L + 100 * (System.nanoTime() - t0);

        ExecutorService round = Executors.newSingleThreadExecutor();
        try {
            CompletableFuture<Integer> applied = CompletableFuture.supplyAsync(
                    () -> backend.verification().verifyPending(), round);
            assertEquals(1, applied.get(budgetNanos, TimeUnit.NANOSECONDS), "the kept job's verdict only");
        } finally {
            round.shutdownNow();
        }
        JsonNode done = api.get("/api/jobs/" + kept, CUSTOMER_KEY).json();
        assertEquals("completed", done.path("status").asText(), done.toString());
        assertEquals("passed", done.path("verification").asText(), done.toString());
        JsonNode waiting = api.get("/api/jobs/" + retired, CUSTOMER_KEY).json();
        assertEquals("verifying", waiting.path("status").asText(), waiting.toString());
        assertEquals("pending", waiting.path("verification").asText(), waiting.toString());
        assertLedgerConsistent(backend.database());
    }

    /** Leases {@code jobId} and posts the node's honest answer; returns the model it ran. */
    private LlamaModel answer(String token, String jobId, LlamaModel loaded) throws Exception {
        JsonNode lease = api.lease(token, jobId);
        LlamaModel model = loaded != null ? loaded : LlamaModel.load(ByteBuffer.wrap(
                api.get(lease.path("model").path("url").asText(), null).bytes()));
        GenerationResult gen = model.generate(JobSpec.parse(lease.toString()).toRequest());
        TestSupport.Resp r = api.result(token, Api.honestResultBody(lease, gen), UUID.randomUUID().toString());
        assertEquals(200, r.status(), r.text());
        return model;
    }
}
