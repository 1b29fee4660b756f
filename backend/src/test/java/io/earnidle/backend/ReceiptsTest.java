package io.earnidle.backend;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.receipts.Jcs;
import io.earnidle.backend.receipts.ReceiptKeys;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.loop.JobSpec;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webclient.http1.Http1ClientRequest;
import io.helidon.webclient.http1.Http1ClientResponse;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Signed receipts (docs/receipts.md): a node's results, their verification outcomes and credit reversals each get an
 * Ed25519-signed RFC 8785 receipt chained per node session; the keys are published with their periods and a rotated
 * key's receipts still verify. Everything is checked here from the public responses only, as a verifier would.
 */
@ServerTest
class ReceiptsTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final int MAX_TOKENS = 6;
    private final Api api;
    private final Http1Client client;

    ReceiptsTest(Http1Client client) {
        this.api = new Api(client);
        this.client = client;
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.trust.sample-rate", "1.0",
                "earnidle.trust.verifier-threads", "0",
                "earnidle.trust.canary.rate", "0",
                "earnidle.trust.max-attempts", "1", // a rejected job fails: nothing is left queued
                "earnidle.receipts.rotation-overlap-seconds", "30"), CLOCK);
    }

    /** A honest result (the JVM engine's own output) or a forged one ([1,2,3]); returns the accepted response. */
    private JsonNode answer(String token, String jobId, boolean honest) throws Exception {
        JsonNode lease = api.lease(token, jobId);
        if (!honest) {
            Resp r = api.result(token, Api.resultBody(lease, "test-engine"), UUID.randomUUID().toString());
            assertEquals(200, r.status(), r.text());
            return r.json();
        }
        LlamaModel model = LlamaModel.load(ByteBuffer.wrap(api.get(lease.path("model").path("url").asText(), null)
                .bytes()));
        GenerationResult gen = model.generate(JobSpec.parse(lease.toString()).toRequest());
        Resp r = api.result(token, """
                {"job_id":"%s","lease_id":"%s","text":%s,"token_ids":%s,"token_count":%d,"engine":"jvm",
                 "timing":{"prefill_ms":12.5,"decode_ms":40.0}}""".formatted(jobId, lease.path("lease_id").asText(),
                TestSupport.quote(gen.text()), Json.MAPPER.writeValueAsString(gen.tokenIds()),
                gen.tokenIds().length), UUID.randomUUID().toString());
        assertEquals(200, r.status(), r.text());
        return r.json();
    }

    private Map<String, JsonNode> keys() {
        Resp r = api.get("/.well-known/earnidle-receipt-keys.json", null);
        assertEquals(200, r.status(), r.text());
        Map<String, JsonNode> byKid = new HashMap<>();
        for (JsonNode k : r.json().path("keys")) {
            assertEquals("OKP", k.path("kty").asText());
            assertEquals("Ed25519", k.path("crv").asText());
            byKid.put(k.path("kid").asText(), k);
        }
        return byKid;
    }

    /** Verifies a {receipt, signature, kid} envelope against the published keys as docs/receipts.md says. */
    private static void assertSigned(JsonNode signed, Map<String, JsonNode> keys) {
        JsonNode receipt = signed.path("receipt");
        assertEquals(receipt.path("kid").asText(), signed.path("kid").asText());
        JsonNode key = keys.get(signed.path("kid").asText());
        assertTrue(key != null, "key " + signed.path("kid").asText() + " is published");
        byte[] canonical = Jcs.bytes(receipt);
        byte[] sig = Base64.getUrlDecoder().decode(signed.path("signature").asText());
        assertTrue(ReceiptKeys.verify(key.path("x").asText(), canonical, sig), "signature of " + receipt);
        long issued = Instant.parse(receipt.path("issued_at").asText()).toEpochMilli();
        assertTrue(issued >= key.path("nbf").asLong() * 1000, "issued within the key's period");
        assertTrue(!key.has("exp") || issued < key.path("exp").asLong() * 1000, "issued within the key's period");
        // one changed byte of the receipt breaks the signature
        canonical[canonical.length / 2] ^= 1;
        assertFalse(ReceiptKeys.verify(key.path("x").asText(), canonical, sig));
    }

    private List<JsonNode> chain(String sessionId, int limit) throws Exception {
        List<JsonNode> all = new ArrayList<>();
        String next = "/api/nodes/" + sessionId + "/receipts?limit=" + limit;
        while (next != null) {
            JsonNode page = get(next);
            page.path("receipts").forEach(all::add);
            assertTrue(page.path("receipts").size() <= limit);
            next = page.path("next").isNull() ? null : page.path("next").asText();
        }
        return all;
    }

    /** GET of a link with a query ({@code path?a=1&b=2}), 200 asserted. */
    private JsonNode get(String link) throws Exception {
        String[] parts = link.split("\\?", 2);
        Http1ClientRequest req = client.get(parts[0]);
        for (String param : parts.length > 1 ? parts[1].split("&") : new String[0]) {
            String[] kv = param.split("=", 2);
            req.queryParam(kv[0], kv[1]);
        }
        try (Http1ClientResponse r = req.request()) {
            String text = r.as(String.class);
            assertEquals(200, r.status().code(), text);
            return Json.MAPPER.readTree(text);
        }
    }

    @Test
    void resultsVerdictsAndReversalsFormASignedChainPerSession() throws Exception {
        // two nodes: an honest one, and a cheat (whose every pending credit a caught cheat forfeits, docs/trust.md)
        String token = api.register();
        String sessionId = api.get("/api/nodes/me", token).json().path("session_id").asText();
        String honestJob = api.submit("the quick brown fox", MAX_TOKENS).path("id").asText();
        JsonNode accepted = answer(token, honestJob, true);
        String firstReceipt = accepted.path("receipt_id").asText();
        assertTrue(firstReceipt.startsWith("rcpt_"), accepted.toString());
        String cheat = api.register();
        String cheatSession = api.get("/api/nodes/me", cheat).json().path("session_id").asText();
        String forgedJob = api.submit("jumps over the lazy dog", MAX_TOKENS).path("id").asText();
        answer(cheat, forgedJob, false);
        assertTrue(backend.verification().verifyPending() >= 2);

        Map<String, JsonNode> keys = keys(); // one, or two when the rotation test ran first
        // the first receipt, as GET /api/receipts/{id} serves it
        JsonNode one = api.get("/api/receipts/" + firstReceipt, null).json();
        assertSigned(one, keys);
        JsonNode r = one.path("receipt");
        assertEquals(1, r.path("v").asInt());
        assertEquals("result", r.path("kind").asText());
        assertEquals(honestJob, r.path("job_id").asText());
        assertEquals(sessionId, r.path("node").path("session_id").asText());
        assertTrue(r.path("node").path("wallet").isNull());
        assertEquals("synthetic-tiny-f32", r.path("model").path("id").asText());
        assertEquals(64, r.path("model").path("gguf_sha256").asText().length());
        assertEquals("text", r.path("prompt").path("of").asText());
        assertEquals(Ids.sha256Hex("the quick brown fox"), r.path("prompt").path("sha256").asText());
        assertEquals(12.5, r.path("timing").path("prefill_ms").asDouble());
        assertEquals("jvm", r.path("timing").path("engine").asText());
        assertEquals("pending", r.path("verification").path("status").asText());
        JsonNode price = r.path("price");
        assertEquals(200 + 60 * MAX_TOKENS, price.path("total_micro_usdc").asLong());
        assertEquals(price.path("total_micro_usdc").asLong(), price.path("node_micro_usdc").asLong()
                + price.path("publisher_micro_usdc").asLong() + price.path("platform_micro_usdc").asLong());
        assertTrue(r.path("prev").isNull(), "the session's first receipt has no prev");

        // each session's chain, two receipts a page: result and passed; result, failed and reversal
        List<JsonNode> chain = chain(sessionId, 2);
        List<JsonNode> cheatChain = chain(cheatSession, 2);
        assertEquals(List.of("result", "verification"),
                chain.stream().map(s -> s.path("receipt").path("kind").asText()).toList());
        assertEquals(List.of("result", "verification", "reversal"),
                cheatChain.stream().map(s -> s.path("receipt").path("kind").asText()).toList());
        for (List<JsonNode> c : List.of(chain, cheatChain)) {
            String prev = null;
            for (JsonNode s : c) {
                assertSigned(s, keys);
                JsonNode receipt = s.path("receipt");
                assertEquals(prev, receipt.path("prev").isNull() ? null : receipt.path("prev").asText());
                prev = Ids.sha256Hex(Jcs.bytes(receipt));
            }
        }
        JsonNode forgedResult = cheatChain.get(0).path("receipt");
        assertEquals(Ids.sha256Hex("[1,2,3]"), forgedResult.path("output").path("token_ids_sha256").asText());
        assertEquals(3, forgedResult.path("output").path("tokens").asInt());
        JsonNode passed = chain.get(1).path("receipt");
        assertEquals(honestJob, passed.path("job_id").asText());
        assertEquals(firstReceipt, passed.path("refers_to").asText());
        assertEquals("passed", passed.path("verification").path("status").asText());
        assertEquals("teacher-forced", passed.path("verification").path("method").asText());
        // the result receipt is issued before its result row and payout are written (from what they will hold), a
        // verdict's receipt from the stored rows: both say the same about the result
        for (String field : List.of("node", "model", "prompt", "output", "timing", "price")) {
            assertEquals(r.path(field), passed.path(field), field);
            assertEquals(forgedResult.path(field), cheatChain.get(1).path("receipt").path(field), field);
        }
        JsonNode failed = cheatChain.get(1).path("receipt");
        assertEquals(forgedJob, failed.path("job_id").asText());
        assertEquals(forgedResult.path("id").asText(), failed.path("refers_to").asText());
        assertEquals("failed", failed.path("verification").path("status").asText());
        JsonNode reversal = cheatChain.get(2).path("receipt");
        assertEquals(forgedResult.path("price").path("node_micro_usdc").asLong(),
                reversal.path("reversal").path("node_micro_usdc").asLong());
        assertEquals("verification-failed", reversal.path("reversal").path("cause").asText());

        // the customer sees its job's receipts; nobody else does
        Resp ofJob = api.get("/api/jobs/" + forgedJob + "/receipts", CUSTOMER_KEY);
        assertEquals(200, ofJob.status(), ofJob.text());
        assertEquals(3, ofJob.json().path("receipts").size());
        api.get("/api/jobs/" + forgedJob + "/receipts", "not-a-key").problem(401, "unauthorized");
        api.get("/api/receipts/rcpt_nope", null).problem(404, "not-found");

        api.get("/api/nodes/ns_nope/receipts", null).problem(404, "not-found");
        try (Http1ClientResponse bad = client.get("/api/nodes/" + sessionId + "/receipts").queryParam("limit", "0")
                .request()) {
            assertEquals(400, bad.status().code());
        }
    }

    @Test
    void aRotatedOutKeyStaysPublishedAndItsReceiptsStillVerify() throws Exception {
        String token = api.register();
        String sessionId = api.get("/api/nodes/me", token).json().path("session_id").asText();
        String before = answer(token, api.submit("before the rotation", MAX_TOKENS).path("id").asText(), false)
                .path("receipt_id").asText();
        String oldKid = api.get("/api/receipts/" + before, null).json().path("kid").asText();

        CLOCK.advance(Duration.ofMinutes(5));
        Instant rotation = backend.ledger().now();
        String newKid = backend.verification().receipts().keys().rotate(backend.database(), rotation);
        assertNotEquals(oldKid, newKid);
        CLOCK.advance(Duration.ofMinutes(1)); // past the 30 s overlap: only the new key signs now
        String after = answer(token, api.submit("after the rotation", MAX_TOKENS).path("id").asText(), false)
                .path("receipt_id").asText();

        Map<String, JsonNode> keys = keys();
        assertTrue(keys.get(oldKid).has("exp"), "the old key's period ended: " + keys.get(oldKid));
        Instant end = rotation.plusSeconds(30);
        assertEquals(end.getEpochSecond() + (end.getNano() > 0 ? 1 : 0), keys.get(oldKid).path("exp").asLong(),
                "old key valid until the rotation plus the overlap");
        assertFalse(keys.get(newKid).has("exp"));
        JsonNode old = api.get("/api/receipts/" + before, null).json();
        JsonNode fresh = api.get("/api/receipts/" + after, null).json();
        assertEquals(oldKid, old.path("kid").asText());
        assertEquals(newKid, fresh.path("kid").asText());
        assertSigned(old, keys);
        assertSigned(fresh, keys);
        List<JsonNode> chain = chain(sessionId, 100);
        assertEquals(2, chain.size());
        assertEquals(Ids.sha256Hex(Jcs.bytes(chain.get(0).path("receipt"))),
                chain.get(1).path("receipt").path("prev").asText(), "the chain goes on across the rotation");

        // private keys: files of the data directory only its owner can read
        Path dir = dataDir().resolve("receipt-keys");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        for (String kid : List.of(oldKid, newKid)) {
            assertEquals("rw-------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(dir.resolve(kid + ".key"))));
        }
    }
}
