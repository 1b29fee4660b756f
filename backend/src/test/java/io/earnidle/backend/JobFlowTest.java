package io.earnidle.backend;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.jobs.Jobs;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
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
import static io.earnidle.backend.TestSupport.balance;
import static io.earnidle.backend.TestSupport.count;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The node/customer job flow against the real routing, a temp H2 file and a hand-moved clock. */
@ServerTest
class JobFlowTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();

    private final Api api;
    private final java.net.URI uri;

    JobFlowTest(Http1Client client, java.net.URI uri) {
        this.api = new Api(client);
        this.uri = uri;
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        // synthetic results, paid unverified and at once, as before verification (docs/trust.md)
        start(routing, Map.of("earnidle.ledger.verification-window-seconds", "0", "earnidle.trust.sample-rate", "0"), CLOCK);
    }

    @Test
    void wholeFlowWithRealGeneration() throws Exception {
        String customerAccount = Ledger.accountId("customer", "demo-customer");
        long customerBefore = balance(backend.database(), customerAccount);
        String token = api.register();

        JsonNode models = api.get("/api/models", null).json().path("models");
        JsonNode tiny = null;
        for (JsonNode m : models) {
            tiny = "synthetic-tiny-f32".equals(m.path("id").asText()) ? m : tiny;
        }
        assertTrue(tiny != null && tiny.path("vocab_size").asInt() > 256, models.toString());
        assertEquals("/models/synthetic-tiny-f32.gguf", tiny.path("url").asText());

        JsonNode job = api.submit("Hello", 8);
        assertEquals("queued", job.path("status").asText());
        // reserved: fee + the prompt's upper bound x input rate (0 by default) + max_tokens x output rate
        assertEquals(200 + 60 * 8, job.path("price_micro_usdc").asLong());
        assertEquals(job.path("price_micro_usdc").asLong(), job.path("reserved_micro_usdc").asLong());
        String jobId = job.path("id").asText();
        assertEquals("queued", api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json().path("status").asText());

        JsonNode lease = api.lease(token, jobId);
        assertTrue(lease.path("lease_id").asText().startsWith("lease_"));
        assertEquals("Hello", lease.path("prompt").asText());
        assertTrue(lease.path("prompt_ids").isNull());
        assertTrue(lease.path("add_bos").asBoolean());
        assertEquals(8, lease.path("max_tokens").asInt());
        assertEquals("leased", api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json().path("status").asText());

        // download the model like a node does, check it, and really run the job
        JsonNode model = lease.path("model");
        Resp file = api.get(model.path("url").asText(), null);
        assertEquals(200, file.status());
        assertEquals("application/octet-stream", file.contentType());
        assertEquals(model.path("size_bytes").asLong(), file.contentLength());
        assertEquals(model.path("size_bytes").asLong(), file.bytes().length);
        assertEquals(model.path("sha256").asText(), Ids.sha256Hex(file.bytes()));
        LlamaModel llama = LlamaModel.load(ByteBuffer.wrap(file.bytes()));
        GenerationResult gen = llama.generate(new GenerationRequest("Hello", null, true, 8, Sampling.greedy()));
        assertTrue(gen.tokenIds().length >= 1 && gen.tokenIds().length <= 8);

        String body = """
                {"job_id":"%s","lease_id":"%s","text":%s,"token_ids":%s,"token_count":%d,"engine":"jvm",
                 "timing":{"prefill_ms":%s,"decode_ms":%s}}""".formatted(jobId, lease.path("lease_id").asText(),
                TestSupport.quote(gen.text()), Json.MAPPER.writeValueAsString(gen.tokenIds()), gen.tokenIds().length,
                gen.prefillMs(), gen.decodeMs());
        Resp accepted = api.result(token, body, UUID.randomUUID().toString());
        assertEquals(200, accepted.status(), accepted.text());
        // charged: fee + the prompt's tokens x input rate (0 by default) + the tokens produced x output rate
        int promptTokens = llama.tokenizer().encode("Hello", true).length;
        long charge = 200 + 60L * gen.tokenIds().length;
        Ledger.Split split = Ledger.split(charge, 1000, 2000);
        assertEquals("accepted", accepted.json().path("status").asText());
        assertEquals(split.visitor(), accepted.json().path("payout_micro_usdc").asLong());
        assertEquals(split.visitor(), accepted.json().path("balance_micro_usdc").asLong());

        JsonNode me = api.get("/api/nodes/me", token).json();
        assertEquals(1, me.path("jobs_completed").asInt());
        assertEquals(split.visitor(), me.path("balance_micro_usdc").asLong());
        assertEquals("demo-placement", me.path("placement_id").asText());
        // the same public counters by session id, without the token; unknown ids are a problem+json 404
        JsonNode byId = api.get("/api/nodes/" + me.path("session_id").asText(), null).json();
        assertEquals(me, byId);
        Resp unknown = api.get("/api/nodes/ns_does_not_exist", null);
        assertEquals(404, unknown.status());
        assertTrue(unknown.contentType().startsWith("application/problem+json"), unknown.contentType());

        JsonNode done = api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json();
        assertEquals("completed", done.path("status").asText());
        assertEquals(gen.text(), done.path("result").path("text").asText());
        int[] ids = Json.MAPPER.treeToValue(done.path("result").path("token_ids"), int[].class);
        assertArrayEquals(gen.tokenIds(), ids);
        assertEquals("jvm", done.path("result").path("engine").asText());
        assertTrue(done.path("completed_at").asText().endsWith("Z"));

        assertEquals(charge, done.path("charged_micro_usdc").asLong());
        assertEquals(promptTokens, done.path("usage").path("prompt_tokens").asInt());
        assertEquals(gen.tokenIds().length, done.path("usage").path("completion_tokens").asInt());
        assertEquals(customerBefore - charge, balance(backend.database(), customerAccount));
        assertLedgerConsistent(backend.database());
    }

    @Test
    void placementsAreListedForThePortal() {
        JsonNode placements = api.get("/api/placements", null).json().path("placements");
        JsonNode demo = null;
        for (JsonNode p : placements) {
            demo = "demo-placement".equals(p.path("id").asText()) ? p : demo;
        }
        assertTrue(demo != null, placements.toString());
        assertEquals(2000, demo.path("publisher_share_bps").asInt());
        assertEquals("active", demo.path("status").asText());
        assertEquals("demo-publisher", demo.path("publisher_id").asText());
    }

    @Test
    void promptIdsJob() {
        String token = api.register();
        Resp r = api.post("/api/jobs", CUSTOMER_KEY,
                "{\"model\":\"synthetic-tiny-f32\",\"prompt_ids\":[1,2,3],\"max_tokens\":4}");
        assertEquals(202, r.status(), r.text());
        JsonNode lease = api.lease(token, r.json().path("id").asText());
        assertTrue(lease.path("prompt").isNull());
        assertEquals("[1,2,3]", lease.path("prompt_ids").toString());
        assertTrue(!lease.path("add_bos").asBoolean());
        assertEquals(0.0, lease.path("sampling").path("temperature").asDouble());
        Resp done = api.result(token, Api.resultBody(lease, "e"), UUID.randomUUID().toString());
        assertEquals(200, done.status(), done.text());
    }

    @Test
    void theLargestSeedANodeReadsIsLeasedAsGiven() {
        String token = api.register();
        Resp r = api.post("/api/jobs", CUSTOMER_KEY, "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"seed\","
                + "\"max_tokens\":4,\"sampling\":{\"temperature\":1,\"seed\":" + Jobs.MAX_SEED + "}}");
        assertEquals(202, r.status(), r.text());
        JsonNode lease = api.lease(token, r.json().path("id").asText());
        assertEquals(Jobs.MAX_SEED, lease.path("sampling").path("seed").asLong());
        assertEquals(Jobs.MAX_SEED, JobSpec.parse(lease.toString()).toRequest().sampling().seed());
        Resp done = api.result(token, Api.resultBody(lease, "e"), UUID.randomUUID().toString());
        assertEquals(200, done.status(), done.text());
    }

    @Test
    void expiredLeaseReturnsJobToQueueAndStaleResultIsRefused() {
        String a = api.register();
        String b = api.register();
        String jobId = api.submit("expire me", 4).path("id").asText();
        JsonNode leaseA = api.lease(a, jobId);
        assertEquals(204, api.get("/api/inference/job", b).status(), "the only job is leased");

        // past the lease's own expiry (its length fits the job and the node: docs/trust.md)
        CLOCK.advance(Duration.between(CLOCK.instant(), Instant.parse(leaseA.path("lease_expires_at").asText()))
                .plusSeconds(1));
        assertEquals("queued", api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json().path("status").asText());
        // expired and not yet re-leased: still refused
        api.result(a, Api.resultBody(leaseA, "a"), UUID.randomUUID().toString()).problem(409, "conflict");

        JsonNode leaseB = api.lease(b, jobId);
        assertNotEquals(leaseA.path("lease_id").asText(), leaseB.path("lease_id").asText());
        long results = count(backend.database(), "SELECT COUNT(*) AS n FROM job_results");
        api.result(a, Api.resultBody(leaseA, "a"), UUID.randomUUID().toString()).problem(409, "conflict");
        // the new holder's lease, but sent by another session
        api.result(a, Api.resultBody(leaseB, "a"), UUID.randomUUID().toString()).problem(409, "conflict");
        assertEquals(results, count(backend.database(), "SELECT COUNT(*) AS n FROM job_results"));

        Resp ok = api.result(b, Api.resultBody(leaseB, "b"), UUID.randomUUID().toString());
        assertEquals(200, ok.status(), ok.text());
        assertEquals(0, api.get("/api/nodes/me", a).json().path("balance_micro_usdc").asLong());
        assertEquals(2, count(backend.database(), "SELECT attempts AS n FROM jobs WHERE id = ?", jobId));
        assertLedgerConsistent(backend.database());
    }

    @Test
    void idempotentRetryDoesNotCreditTwice() {
        String token = api.register();
        String jobId = api.submit("retry", 4).path("id").asText();
        JsonNode lease = api.lease(token, jobId);
        String key = UUID.randomUUID().toString();
        String body = Api.resultBody(lease, "retry-engine");
        Resp first = api.result(token, body, key);
        assertEquals(200, first.status(), first.text());
        Resp again = api.result(token, body, key);
        assertEquals(200, again.status(), again.text());
        assertEquals(first.text(), again.text());
        long payout = first.json().path("payout_micro_usdc").asLong();
        assertTrue(payout > 0);
        assertEquals(payout, api.get("/api/nodes/me", token).json().path("balance_micro_usdc").asLong());
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM ledger_transactions WHERE job_id = ?",
                jobId));

        api.result(token, body.replace("retry-engine", "other"), key).problem(409, "conflict");
        api.result(token, body, UUID.randomUUID().toString()).problem(409, "conflict");
        api.result(api.register(), body, key).problem(409, "conflict");
        assertEquals(payout, api.get("/api/nodes/me", token).json().path("balance_micro_usdc").asLong());
        assertLedgerConsistent(backend.database());
    }

    @Test
    void concurrentPollsNeverShareAJob() throws Exception {
        Set<String> submitted = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            submitted.add(api.submit("race " + i, 4).path("id").asText());
        }
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            tokens.add(api.register());
        }
        List<Resp> polls = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<Resp>> futures = new ArrayList<>();
            for (String t : tokens) {
                // each poll on a client of its own (TestSupport.ownClient)
                futures.add(pool.submit(() -> new Api(TestSupport.ownClient(uri)).get("/api/inference/job", t)));
            }
            for (Future<Resp> f : futures) {
                polls.add(f.get());
            }
        }
        Set<String> leased = new HashSet<>();
        for (int i = 0; i < polls.size(); i++) {
            Resp p = polls.get(i);
            if (p.status() == 200) {
                assertTrue(leased.add(p.json().path("job_id").asText()), "job leased twice");
                Resp ok = api.result(tokens.get(i), Api.resultBody(p.json(), "race"), UUID.randomUUID().toString());
                assertEquals(200, ok.status(), ok.text());
            } else {
                assertEquals(204, p.status());
            }
        }
        assertEquals(submitted, leased);
        assertLedgerConsistent(backend.database());
    }

    @Test
    void jobsNeedingMoreMemoryThanTheNodeOffersAreNotHandedOut() {
        backend.database().execute().insert("INSERT INTO models (id, file_name, sha256, size_bytes, vocab_size,"
                + " context_length, status, created_at) VALUES ('huge-test-model', 'huge.gguf', ?, 2147483648, 1000,"
                + " 4096, 'active', CURRENT_TIMESTAMP)", "0".repeat(64));
        Resp r = api.post("/api/jobs", CUSTOMER_KEY, "{\"model\":\"huge-test-model\",\"prompt\":\"x\",\"max_tokens\":4}");
        assertEquals(202, r.status(), r.text());
        String small = api.register("{\"memory_mb\":512}");
        assertEquals(204, api.get("/api/inference/job", small).status());
        String big = api.register("{\"memory_mb\":4096}");
        api.complete(big, r.json().path("id").asText());
    }
}
