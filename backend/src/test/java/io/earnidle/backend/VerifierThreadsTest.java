package io.earnidle.backend;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.UUID;

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
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The verifier's worker threads take accepted results off the queue by themselves (docs/trust.md). */
@ServerTest
class VerifierThreadsTest extends BackendServerTest {
    private final Api api;

    VerifierThreadsTest(Http1Client client) {
        this.api = new Api(client);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.sample-rate", "1.0",
                "earnidle.trust.verifier-threads", "2"), new TestSupport.MutableClock());
    }

    @Test
    void workersVerifyAcceptedResults() throws Exception {
        String token = api.register();
        String jobId = api.submit("the quick brown fox", 8).path("id").asText();
        JsonNode lease = api.lease(token, jobId);
        LlamaModel model = LlamaModel.load(ByteBuffer.wrap(api.get(lease.path("model").path("url").asText(), null)
                .bytes()));
        GenerationRequest request = JobSpec.parse(lease.toString()).toRequest();
        GenerationResult gen = model.generate(request);
        // what one verification costs here, measured on this thread: the workers get many times that
        long t0 = System.nanoTime();
        assertTrue(ResultVerifier.verify(model, request, gen.tokenIds(), gen.text(),
                TrustSettings.DEFAULT_MARGINS.get("f32")).passed());
        long budgetNanos = 1_000_000_000L + 100 * (System.nanoTime() - t0); // + the workers' 1 s re-check

        Resp r = api.result(token, Api.honestResultBody(lease, gen), UUID.randomUUID().toString());
        assertEquals(200, r.status(), r.text());
        long deadline = System.nanoTime() + budgetNanos;
        JsonNode job = api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json();
        while ("verifying".equals(job.path("status").asText()) && System.nanoTime() < deadline) {
            Thread.sleep(10);
            job = api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json();
        }
        assertEquals("completed", job.path("status").asText(), job.toString());
        assertEquals("passed", job.path("verification").asText());
        JsonNode me = api.get("/api/nodes/me", token).json();
        assertTrue(me.path("balance_micro_usdc").asLong() > 0, me.toString());
        assertEquals(0, me.path("pending_micro_usdc").asLong());
        assertLedgerConsistent(backend.database());
    }
}
