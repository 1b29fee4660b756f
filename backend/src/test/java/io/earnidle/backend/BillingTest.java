package io.earnidle.backend;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
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
 * Per-token billing (issue 21, docs/api.md "Pricing"): the price of max_tokens is reserved at submission, a completed
 * job is charged fee + prompt tokens x input rate + completion tokens x output rate, a failed, reversed or cancelled
 * job costs nothing, and the ledger stays zero-sum over every path. Every result is verified (the queue driven by
 * the test), credits are due at once after it.
 */
@ServerTest
class BillingTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final String CUSTOMER = Ledger.accountId("customer", "demo-customer");
    private static final long FEE = 150;
    private static final long INPUT = 20;
    private static final long OUTPUT = 70;
    private static final String COMMITTED = "SELECT COALESCE(SUM(price_micro_usdc), 0) AS n FROM jobs"
            + " WHERE customer_id = ? AND status IN ('queued', 'leased')";
    private final Api api;

    BillingTest(Http1Client client) {
        this.api = new Api(client);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.rates.per-job-micro-usdc", String.valueOf(FEE),
                "earnidle.rates.input-per-token-micro-usdc", String.valueOf(INPUT),
                "earnidle.rates.per-token-micro-usdc", String.valueOf(OUTPUT),
                "earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.sample-rate", "1.0",
                "earnidle.trust.verifier-threads", "0",
                "earnidle.trust.max-attempts", "2"), CLOCK);
    }

    private long committed() {
        return count(backend.database(), COMMITTED, "demo-customer");
    }

    private JsonNode job(String jobId) {
        return api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json();
    }

    @Test
    void rateCardIsPublic() {
        Resp r = api.get("/api/rates", null);
        assertEquals(200, r.status(), r.text());
        JsonNode d = r.json().path("default");
        assertEquals(FEE, d.path("request_micro_usdc").asLong());
        assertEquals(INPUT, d.path("input_per_token_micro_usdc").asLong());
        assertEquals(OUTPUT, d.path("output_per_token_micro_usdc").asLong());
        assertEquals("micro-USDC", r.json().path("currency").asText());
    }

    @Test
    void aCompletedJobPaysForItsTokensAndReleasesTheRestOfItsReservation() throws Exception {
        long customerBefore = available(CUSTOMER);
        long committedBefore = committed();
        String prompt = "the quick brown fox";
        JsonNode submitted = api.submit(prompt, 8);
        long reserved = FEE + INPUT * (prompt.length() + 1) + OUTPUT * 8; // prompt bytes + BOS bound its tokens
        assertEquals(reserved, submitted.path("reserved_micro_usdc").asLong());
        assertEquals(committedBefore + reserved, committed());
        String jobId = submitted.path("id").asText();

        String token = api.register();
        JsonNode lease = api.lease(token, jobId);
        LlamaModel model = LlamaModel.load(ByteBuffer.wrap(api.get(lease.path("model").path("url").asText(), null)
                .bytes()));
        GenerationResult gen = model.generate(JobSpec.parse(lease.toString()).toRequest());
        assertEquals(jobId, lease.path("job_id").asText());
        Resp accepted = api.result(token, Api.honestResultBody(lease, gen), UUID.randomUUID().toString());
        assertEquals(200, accepted.status(), accepted.text());
        assertTrue(backend.verification().verifyPending() >= 1);

        int promptTokens = model.tokenizer().encode(prompt, true).length;
        assertTrue(promptTokens < prompt.length() + 1, "the tokenizer merges: " + promptTokens);
        long charge = FEE + INPUT * promptTokens + OUTPUT * gen.tokenIds().length;
        assertTrue(charge < reserved, charge + " < " + reserved);
        JsonNode done = job(jobId);
        assertEquals("completed", done.path("status").asText(), done.toString());
        assertEquals(charge, done.path("charged_micro_usdc").asLong());
        assertEquals(promptTokens, done.path("usage").path("prompt_tokens").asInt());
        assertEquals(gen.tokenIds().length, done.path("usage").path("completion_tokens").asInt());
        assertEquals(customerBefore - charge, available(CUSTOMER), "charged for the tokens, the rest released");
        assertEquals(committedBefore, committed());
        Ledger.Split split = Ledger.split(charge, 1000, 2000);
        String session = api.get("/api/nodes/me", token).json().path("session_id").asText();
        assertEquals(split.visitor(), moneyFromJob(backend.database(), Ledger.accountId("node_session", session), jobId),
                "the same split of the charge");
        assertEquals(split.platformFee(), moneyFromJob(backend.database(), Ledger.PLATFORM_ACCOUNT, jobId));
        assertEquals(-charge, moneyFromJob(backend.database(), CUSTOMER, jobId));
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aReversedAndThenFailedJobReleasesItsReservationInFull() {
        long customerBefore = available(CUSTOMER);
        long committedBefore = committed();
        String jobId = api.submit("forge me", 4).path("id").asText();
        // two forged results (the same three ids whatever the prompt): each is charged, fails verification and is
        // reversed; the second failure is the job's last attempt
        for (int attempt = 1; attempt <= 2; attempt++) {
            api.complete(api.register(), jobId);
            assertTrue(available(CUSTOMER) < customerBefore, "charged when the result came");
            assertTrue(backend.verification().verifyPending() >= 1);
            assertEquals(customerBefore, available(CUSTOMER), "refunded in full on attempt " + attempt);
        }
        JsonNode failed = job(jobId);
        assertEquals("failed", failed.path("status").asText(), failed.toString());
        assertTrue(failed.path("charged_micro_usdc").isNull());
        assertEquals(committedBefore, committed(), "nothing stays reserved");
        assertEquals(0, moneyFromJob(backend.database(), CUSTOMER, jobId));
        assertEquals(0, moneyFromJob(backend.database(), Ledger.PLATFORM_ACCOUNT, jobId));
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aQueuedJobCanBeCancelledAndCostsNothing() {
        long customerBefore = available(CUSTOMER);
        long committedBefore = committed();
        String jobId = api.submit("never mind", 6).path("id").asText();
        assertTrue(committed() > committedBefore);

        Resp cancelled = api.post("/api/jobs/" + jobId + "/cancel", CUSTOMER_KEY, "");
        assertEquals(200, cancelled.status(), cancelled.text());
        assertEquals("cancelled", cancelled.json().path("status").asText());
        assertEquals("cancelled", job(jobId).path("status").asText());
        assertEquals(committedBefore, committed(), "the reservation is released in full");
        assertEquals(customerBefore, available(CUSTOMER));
        assertEquals(200, api.post("/api/jobs/" + jobId + "/cancel", CUSTOMER_KEY, "").status(), "idempotent");
        assertEquals(204, api.get("/api/inference/job", api.register()).status(), "no node gets it");
        assertEquals(0, moneyFromJob(backend.database(), CUSTOMER, jobId));

        assertEquals(401, api.post("/api/jobs/" + jobId + "/cancel", "not-a-key", "").status());
        assertEquals(404, api.post("/api/jobs/job_nope/cancel", CUSTOMER_KEY, "").status());
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aLeasedOrFinishedJobCannotBeCancelled() {
        String jobId = api.submit("too late", 4).path("id").asText();
        String token = api.register();
        JsonNode lease = api.lease(token, jobId);
        Resp leased = api.post("/api/jobs/" + jobId + "/cancel", CUSTOMER_KEY, "");
        assertEquals(409, leased.status(), leased.text());
        assertTrue(leased.contentType().startsWith("application/problem+json"), leased.contentType());
        assertEquals("leased", job(jobId).path("status").asText());

        Resp r = api.result(token, Api.resultBody(lease, "test-engine"), UUID.randomUUID().toString());
        assertEquals(200, r.status(), r.text());
        assertEquals(409, api.post("/api/jobs/" + jobId + "/cancel", CUSTOMER_KEY, "").status());
        backend.verification().verifyPending(); // a forged result: reversed, queued again for another node
        assertEquals(200, api.post("/api/jobs/" + jobId + "/cancel", CUSTOMER_KEY, "").status(),
                "queued again: cancellable");
        assertEquals(0, moneyFromJob(backend.database(), Ledger.accountId("customer", "demo-customer"), jobId));
        assertLedgerConsistent(backend.database());
    }
}
