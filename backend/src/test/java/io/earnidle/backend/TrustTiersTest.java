package io.earnidle.backend;

import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Reputation and tiers (docs/trust.md): the score and tier of the wallet's identity in {@code GET /api/nodes/me},
 * surviving new sessions; sessions without a wallet stay in Probation; results sampled by tier; job classes gated by
 * tier in the lease query; expired leases count against the identity. Tier thresholds are lowered here (Verified
 * after 3 verified successes, Trusted after 10) and the Verified and Trusted sample rates set to 0, so that which
 * results are verified is deterministic.
 */
@ServerTest
class TrustTiersTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    /** One prompt for every job: its greedy output is known to store on PostgreSQL too (no NUL character). */
    private static final String PROMPT = "the quick brown fox";
    private final TestSupport.Api api;
    private final TrustNodes nodes;

    TrustTiersTest(Http1Client client) {
        this.api = new TestSupport.Api(client);
        this.nodes = new TrustNodes(api);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.ledger.verification-window-seconds", "600",
                "earnidle.trust.verifier-threads", "0",
                "earnidle.trust.canary.rate", "0",
                "earnidle.trust.tiers.verified.min-successes", "3",
                "earnidle.trust.tiers.verified.sample-rate", "0",
                "earnidle.trust.tiers.trusted.min-successes", "10",
                "earnidle.trust.tiers.trusted.sample-rate", "0"), CLOCK);
    }

    /** Leases the next job (asserted to be {@code jobId}), answers it honestly; returns the response. */
    private JsonNode doHonestly(TrustNodes.Node node, String jobId) {
        JsonNode lease = nodes.poll(node);
        assertNotNull(lease, "a job for the node");
        assertEquals(jobId, lease.path("job_id").asText());
        return nodes.honest(node, lease);
    }

    private void threeVerifiedJobs(TrustNodes.Node node) {
        for (int i = 0; i < 3; i++) {
            JsonNode r = doHonestly(node, nodes.submit(PROMPT, 4));
            assertEquals("pending", r.path("verification").asText(), "Probation: every result is verified");
            backend.verification().verifyPending();
        }
    }

    @Test
    void aNewSessionIsInProbationWithTheNeutralScore() {
        TrustNodes.Node node = nodes.register(null);
        JsonNode me = nodes.me(node);
        assertEquals(50, me.path("reputation_score").asInt(), me.toString());
        assertEquals("probation", me.path("tier").asText());
        JsonNode byId = api.get("/api/nodes/" + node.id(), null).json();
        assertEquals(50, byId.path("reputation_score").asInt(), "the score is public");
        assertEquals("probation", byId.path("tier").asText());
    }

    @Test
    void reputationBelongsToTheWalletAndSurvivesNewSessions() {
        String wallet = nodes.wallet(CLOCK.instant());
        TrustNodes.Node first = nodes.register(wallet);
        threeVerifiedJobs(first);
        JsonNode me = nodes.me(first);
        assertEquals(71, me.path("reputation_score").asInt(), "100 (3 + 2) / (3 + 2 + 2)");
        assertEquals("verified", me.path("tier").asText());

        TrustNodes.Node second = nodes.register(wallet);
        assertEquals("verified", nodes.me(second).path("tier").asText(), "a new session of the wallet");
        assertEquals(71, nodes.me(second).path("reputation_score").asInt());
        // Verified samples at 0 here: the wallet's next result is not verified
        JsonNode skipped = doHonestly(second, nodes.submit(PROMPT, 4));
        assertEquals("skipped", skipped.path("verification").asText());

        TrustNodes.Node anonymous = nodes.register(null);
        threeVerifiedJobs(anonymous);
        assertEquals(71, nodes.me(anonymous).path("reputation_score").asInt());
        assertEquals("probation", nodes.me(anonymous).path("tier").asText(), "no wallet: Probation for good");
        JsonNode stillVerified = doHonestly(anonymous, nodes.submit(PROMPT, 4));
        assertEquals("pending", stillVerified.path("verification").asText());
        backend.verification().verifyPending();
        assertLedgerConsistent(backend.database());
    }

    @Test
    void jobClassesAreGatedByTier() {
        TrustNodes.Node probation = nodes.register(null);
        TrustNodes.Node verified = nodes.register(nodes.wallet(CLOCK.instant()));
        threeVerifiedJobs(verified);
        String trustedWallet = nodes.wallet(CLOCK.instant());
        TrustNodes.Node trusted = nodes.register(trustedWallet);
        for (int i = 0; i < 10; i++) {
            doHonestly(trusted, nodes.submit(PROMPT, 4));
            backend.verification().verifyPending(); // Probation, then Verified (sampled at 0 here: skipped)
        }
        assertEquals("verified", nodes.me(trusted).path("tier").asText(), "skipped results are no verified success");

        String forTrusted = nodes.submit(PROMPT, 4, "{\"temperature\":0,\"seed\":42}",
                ",\"min_tier\":\"trusted\"");
        assertNull(nodes.poll(probation), "a Probation node does not get a trusted-only job");
        assertNull(nodes.poll(verified), "nor does a Verified one");
        // the rest of the way to Trusted: seven more verified successes (set in the table: Verified samples at 0)
        backend.database().execute().dml("UPDATE reputations SET successes = successes + 7, "
                + "successes_since_failure = successes_since_failure + 7 WHERE identity = ?",
                "wallet:" + api.get("/api/wallets/me", trustedWallet).json().path("address").asText());
        assertEquals("trusted", nodes.me(trusted).path("tier").asText());
        doHonestly(trusted, forTrusted);

        String forVerified = nodes.submit(PROMPT, 4, "{\"temperature\":0,\"seed\":42}",
                ",\"min_tier\":\"verified\"");
        assertNull(nodes.poll(probation));
        doHonestly(verified, forVerified);
        TestSupport.Resp bad = api.post("/api/jobs", CUSTOMER_KEY, """
                {"model":"synthetic-tiny-f32","prompt":"x","max_tokens":4,"min_tier":"gold"}""");
        bad.problem(400, "validation");
    }

    @Test
    void aLeaseThatRunsOutCountsAgainstTheIdentity() {
        TrustNodes.Node slow = nodes.register(null);
        TrustNodes.Node other = nodes.register(null);
        String jobId = nodes.submit(PROMPT, 4);
        assertEquals(jobId, nodes.poll(slow).path("job_id").asText());
        CLOCK.advance(Duration.ofSeconds(61)); // past the tiny job's lease: earnidle.leases.min-seconds 60
        doHonestly(other, jobId);
        assertEquals(44, nodes.me(slow).path("reputation_score").asInt(), "100 * 2 / (2 + 2 + 0.5 * 1)");
        assertEquals(50, nodes.me(other).path("reputation_score").asInt(), "no verdict yet");
        backend.verification().verifyPending();
        assertEquals(60, nodes.me(other).path("reputation_score").asInt(), "100 (1 + 2) / (1 + 2 + 2)");
    }
}
