package io.earnidle.backend;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.ledger.Ledger;
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
import static io.earnidle.backend.TestSupport.count;
import static io.earnidle.backend.TestSupport.moneyFromJob;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pay only for verified work (docs/trust.md): results are verified off the request path (here the queue is driven by
 * the test: verifier-threads 0), credits stay pending until the verification passed and the window ran out, and a
 * forged result is reversed, its job re-queued for another node.
 */
@ServerTest
class VerificationFlowTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final long WINDOW_SECONDS = 600;
    private static final String CUSTOMER = Ledger.accountId("customer", "demo-customer");
    private static final String PUBLISHER = Ledger.accountId("publisher", "demo-publisher");
    private static final int MAX_TOKENS = 8;
    private static final long PRICE = 200 + 60 * MAX_TOKENS;
    private static final Ledger.Split SPLIT = Ledger.split(PRICE, 1000, 2000);
    private final Api api;

    VerificationFlowTest(Http1Client client) {
        this.api = new Api(client);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.ledger.verification-window-seconds", String.valueOf(WINDOW_SECONDS),
                "earnidle.trust.sample-rate", "1.0",
                "earnidle.trust.verifier-threads", "0",
                "earnidle.trust.max-attempts", "2"), CLOCK);
    }

    /** A registered node: its token and ledger account. */
    private record Node(String token, String account) {
    }

    private Node node() {
        Resp r = api.post("/api/nodes", null, """
                {"placement_id":"demo-placement",
                 "capabilities":{"webgpu":false,"wasm_simd":true,"threads":false,"cores":2,"device_memory_gb":8},
                 "limits":{"cpu_share":0.5,"gpu":false,"memory_mb":512,"bandwidth_kbps":256}}""");
        assertEquals(201, r.status(), r.text());
        return new Node(r.json().path("session_token").asText(),
                Ledger.accountId("node_session", r.json().path("session_id").asText()));
    }

    private String submit(String sampling) {
        return submit("the quick brown fox", sampling);
    }

    private String submit(String prompt, String sampling) {
        Resp r = api.post("/api/jobs", CUSTOMER_KEY, """
                {"model":"synthetic-tiny-f32","prompt":%s,"max_tokens":%d,"sampling":%s}"""
                .formatted(TestSupport.quote(prompt), MAX_TOKENS, sampling));
        assertEquals(202, r.status(), r.text());
        return r.json().path("id").asText();
    }

    /** Runs the leased job with the JVM engine, as an honest node does, and posts the result. */
    private JsonNode honest(Node node, String jobId) throws Exception {
        JsonNode lease = api.lease(node.token(), jobId);
        Resp file = api.get(lease.path("model").path("url").asText(), null);
        LlamaModel model = LlamaModel.load(ByteBuffer.wrap(file.bytes()));
        GenerationResult gen = model.generate(JobSpec.parse(lease.toString()).toRequest());
        return post(node, lease, gen.text(), gen.tokenIds());
    }

    /** Answers the leased job with random token ids (what a cheating script does). */
    private JsonNode forged(Node node, String jobId, long seed) throws Exception {
        JsonNode lease = api.lease(node.token(), jobId);
        Random rnd = new Random(seed);
        int[] ids = new int[MAX_TOKENS];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 20 + rnd.nextInt(280); // ordinary tokens of the tiny model (311 ids)
        }
        return post(node, lease, "forged", ids);
    }

    private JsonNode post(Node node, JsonNode lease, String text, int[] ids) throws Exception {
        String body = """
                {"job_id":"%s","lease_id":"%s","text":%s,"token_ids":%s,"token_count":%d,"engine":"jvm",
                 "timing":{"prefill_ms":1.0,"decode_ms":2.0}}""".formatted(lease.path("job_id").asText(),
                lease.path("lease_id").asText(), TestSupport.quote(text), Json.MAPPER.writeValueAsString(ids),
                ids.length);
        Resp r = api.result(node.token(), body, UUID.randomUUID().toString());
        assertEquals(200, r.status(), r.text());
        assertEquals("pending", r.json().path("verification").asText());
        return r.json();
    }

    private JsonNode job(String jobId) {
        return api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json();
    }

    private long pending(String account) {
        return backend.ledger().pending(backend.database().execute(), account);
    }

    private void assertJobSumsToZero(String jobId) {
        assertEquals(0, count(backend.database(), """
                SELECT COALESCE(SUM(e.amount_micro_usdc), 0) AS n FROM ledger_entries e
                JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.job_id = ?""", jobId));
        assertLedgerConsistent(backend.database());
    }

    @Test
    void honestResultPassesAndIsPaidAfterTheWindow() throws Exception {
        Node node = node();
        String jobId = submit("{\"temperature\":0,\"seed\":42}");
        long customerBefore = available(CUSTOMER);
        JsonNode accepted = honest(node, jobId);
        assertEquals(SPLIT.visitor(), accepted.path("pending_micro_usdc").asLong());
        assertEquals(0, accepted.path("balance_micro_usdc").asLong());
        JsonNode verifying = job(jobId);
        assertEquals("verifying", verifying.path("status").asText());
        assertEquals("pending", verifying.path("verification").asText());
        assertTrue(verifying.path("result").isNull(), "no result before it is verified");

        // the window alone does not release the credits: the verification must be done too
        CLOCK.advance(Duration.ofSeconds(WINDOW_SECONDS + 1));
        assertEquals(0, available(node.account()));
        assertEquals(SPLIT.visitor(), pending(node.account()));

        assertTrue(backend.verification().verifyPending() >= 1);
        JsonNode done = job(jobId);
        assertEquals("completed", done.path("status").asText());
        assertEquals("passed", done.path("verification").asText());
        assertTrue(done.path("result").path("token_count").asInt() >= 1);
        assertEquals(SPLIT.visitor(), available(node.account()));
        assertEquals(0, pending(node.account()));
        assertEquals(SPLIT.publisher(), moneyFromJob(backend.database(), PUBLISHER, jobId));
        assertEquals(customerBefore - PRICE, available(CUSTOMER));
        assertJobSumsToZero(jobId);
    }

    @Test
    void passedCreditsStillWaitForTheWindow() throws Exception {
        Node node = node();
        String jobId = submit("{\"temperature\":0,\"seed\":42}");
        honest(node, jobId);
        assertTrue(backend.verification().verifyPending() >= 1);
        assertEquals("passed", job(jobId).path("verification").asText());
        assertEquals(0, available(node.account()));
        assertEquals(SPLIT.visitor(), pending(node.account()));
        CLOCK.advance(Duration.ofSeconds(WINDOW_SECONDS));
        assertEquals(SPLIT.visitor(), available(node.account()));
        assertEquals(0, pending(node.account()));
        assertJobSumsToZero(jobId);
    }

    @Test
    void sampledJobVerifies() throws Exception {
        Node node = node();
        String jobId = submit("{\"temperature\":0.9,\"top_k\":40,\"top_p\":0.95,\"seed\":1234}");
        honest(node, jobId);
        assertTrue(backend.verification().verifyPending() >= 1);
        JsonNode done = job(jobId);
        assertEquals("completed", done.path("status").asText(), done.toString());
        assertEquals("passed", done.path("verification").asText());
        assertJobSumsToZero(jobId);
    }

    @Test
    void anHonestResultWithNulInItsTextPasses() throws Exception {
        Node node = node();
        // the tiny model's greedy output for this prompt has byte 0x00's token in it (docs/protocol.md, "Stored text")
        String jobId = submit("prompt 65", "{\"temperature\":0,\"seed\":42}");
        honest(node, jobId);
        assertTrue(backend.verification().verifyPending() >= 1);
        JsonNode done = job(jobId);
        assertEquals("passed", done.path("verification").asText(), done.toString());
        assertTrue(done.path("result").path("text").asText().contains("\u0000"), done.toString());
        assertJobSumsToZero(jobId);
    }

    @Test
    void forgedResultIsReversedAndTheJobRequeuedForAnHonestNode() throws Exception {
        Node cheat = node();
        Node good = node();
        String jobId = submit("{\"temperature\":0,\"seed\":42}");
        long customerBefore = available(CUSTOMER);
        long publisherBefore = available(PUBLISHER) + pending(PUBLISHER);

        JsonNode accepted = forged(cheat, jobId, 1);
        assertEquals(SPLIT.visitor(), accepted.path("pending_micro_usdc").asLong());
        assertEquals(customerBefore - PRICE, available(CUSTOMER), "charged when the result came");

        assertTrue(backend.verification().verifyPending() >= 1);
        JsonNode requeued = job(jobId);
        assertEquals("queued", requeued.path("status").asText());
        assertEquals("failed", requeued.path("verification").asText());
        assertTrue(requeued.path("result").isNull());
        assertEquals(0, available(cheat.account()));
        assertEquals(0, pending(cheat.account()));
        assertEquals(0, moneyFromJob(backend.database(), cheat.account(), jobId));
        assertEquals(0, moneyFromJob(backend.database(), PUBLISHER, jobId));
        assertEquals(publisherBefore, available(PUBLISHER) + pending(PUBLISHER));
        assertEquals(customerBefore, available(CUSTOMER), "refunded");
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM rejected_results WHERE job_id = ?",
                jobId));
        assertJobSumsToZero(jobId);
        // the node that forged it never gets the job back
        assertEquals(204, api.get("/api/inference/job", cheat.token()).status());

        honest(good, jobId);
        assertTrue(backend.verification().verifyPending() >= 1);
        JsonNode done = job(jobId);
        assertEquals("completed", done.path("status").asText());
        assertEquals("passed", done.path("verification").asText());
        CLOCK.advance(Duration.ofSeconds(WINDOW_SECONDS));
        assertEquals(SPLIT.visitor(), available(good.account()));
        assertEquals(0, available(cheat.account()) + pending(cheat.account()));
        assertEquals(SPLIT.publisher(), moneyFromJob(backend.database(), PUBLISHER, jobId));
        assertEquals(customerBefore - PRICE, available(CUSTOMER), "charged once");
        assertJobSumsToZero(jobId);
    }

    @Test
    void jobFailsAfterMaxAttemptsAndTheCustomerPaysNothing() throws Exception {
        String jobId = submit("{\"temperature\":0,\"seed\":42}");
        long customerBefore = available(CUSTOMER);
        forged(node(), jobId, 2);
        backend.verification().verifyPending();
        assertEquals("queued", job(jobId).path("status").asText());
        forged(node(), jobId, 3);
        backend.verification().verifyPending();
        JsonNode failed = job(jobId);
        assertEquals("failed", failed.path("status").asText());
        assertEquals("failed", failed.path("verification").asText());
        assertTrue(failed.path("result").isNull());
        assertEquals(customerBefore, available(CUSTOMER));
        assertEquals(0, count(backend.database(), "SELECT COUNT(*) AS n FROM jobs WHERE id = ? AND status IN "
                + "('queued', 'leased')", jobId), "no longer committed");
        assertEquals(204, api.get("/api/inference/job", node().token()).status(), "not leased again");
        assertJobSumsToZero(jobId);
    }
}
