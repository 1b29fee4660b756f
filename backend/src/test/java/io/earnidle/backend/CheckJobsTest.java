package io.earnidle.backend;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.canary.PlatformJobs;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static io.earnidle.backend.TestSupport.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Check jobs the platform pays for (docs/trust.md): canaries with a known answer, queued after every leased
 * customer job here (rate 1), look like customer jobs on the wire, pass an honest node and catch a cheating one;
 * with redundancy on, a Verified node's result waits for a replica run by another Verified identity: agreeing runs
 * pass without the verifier, a mismatch is settled by the verifier, a replica that does not come back in time falls
 * back to it.
 */
@ServerTest
class CheckJobsTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final long PRICE = 200 + 60 * 4;
    private static final Ledger.Split SPLIT = Ledger.split(PRICE, 1000, 2000);
    private final TestSupport.Api api;
    private final TrustNodes nodes;

    CheckJobsTest(Http1Client client) {
        this.api = new TestSupport.Api(client);
        this.nodes = new TrustNodes(api);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.verifier-threads", "0",
                "earnidle.trust.canary.rate", "1",
                "earnidle.trust.tiers.verified.sample-rate", "1", // every result of the Verified nodes is checked
                "earnidle.trust.redundancy.mode", "always",
                "earnidle.trust.redundancy.max-wait-seconds", "300"), CLOCK);
    }

    private String checkKind(String jobId) {
        return backend.database().execute().get("SELECT check_kind FROM jobs WHERE id = ?", jobId)
                .map(r -> r.column("check_kind").getString()).orElseThrow();
    }

    private long payerSpent() {
        return -TestSupport.balance(backend.database(), PlatformJobs.PAYER_ACCOUNT);
    }

    /** A wallet identity made Verified (its counters set as 20 verified successes would leave them). */
    private TrustNodes.Node verifiedNode() {
        String wallet = nodes.wallet(CLOCK.instant());
        TrustNodes.Node node = nodes.register(wallet);
        backend.database().execute().dml("INSERT INTO reputations (identity, successes, failures, timeouts, "
                + "successes_since_failure, updated_at) VALUES (?, 20, 0, 0, 20, ?)", "wallet:"
                + api.get("/api/wallets/me", wallet).json().path("address").asText(), CLOCK.instant()
                .atOffset(java.time.ZoneOffset.UTC));
        assertEquals("verified", nodes.me(node).path("tier").asText());
        return node;
    }

    /** Polls every node until each got nothing; answers every lease with {@code answer}. */
    private List<JsonNode> drain(Iterator<TrustNodes.Node> order, java.util.function.BiConsumer<TrustNodes.Node,
            JsonNode> answer) {
        List<JsonNode> leases = new ArrayList<>();
        while (order.hasNext()) {
            TrustNodes.Node n = order.next();
            JsonNode lease;
            while ((lease = nodes.poll(n)) != null) {
                leases.add(lease);
                answer.accept(n, lease);
            }
        }
        return leases;
    }

    @Test
    void canariesLookLikeCustomerJobsPassHonestNodesAndCatchCheats() {
        TrustNodes.Node honest = nodes.register(null);
        String customerJob = nodes.submit("a customer's prompt", 4);
        long spentBefore = payerSpent();
        JsonNode first = nodes.poll(honest);
        assertEquals(customerJob, first.path("job_id").asText());
        nodes.honest(honest, first);
        JsonNode canary = nodes.poll(honest);
        assertNotNull(canary, "the lease queued a canary");
        assertEquals("canary", checkKind(canary.path("job_id").asText()));
        // the same lease JSON: the same fields, model, size and sampling kind; a job_ id like any other
        List<String> fields = new ArrayList<>();
        first.fieldNames().forEachRemaining(fields::add);
        List<String> canaryFields = new ArrayList<>();
        canary.fieldNames().forEachRemaining(canaryFields::add);
        assertEquals(fields, canaryFields);
        assertTrue(canary.path("job_id").asText().startsWith("job_"));
        assertEquals(first.path("model"), canary.path("model"));
        assertEquals(first.path("max_tokens"), canary.path("max_tokens"));
        assertEquals(first.path("sampling").path("temperature"), canary.path("sampling").path("temperature"));
        JsonNode accepted = nodes.honest(honest, canary);
        assertEquals(SPLIT.visitor(), accepted.path("payout_micro_usdc").asLong(), "paid as a customer job is");
        assertEquals("pending", accepted.path("verification").asText(), "a canary is always checked");
        backend.verification().verifyPending();
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM jobs WHERE id = ? AND status = "
                + "'completed' AND verification = 'passed'", canary.path("job_id").asText()));
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM canary_answers WHERE job_id = ?",
                canary.path("job_id").asText()), "the known answer, computed by the JVM engine");
        assertEquals(spentBefore + PRICE, payerSpent(), "the platform paid the canary, no customer did");

        TrustNodes.Node cheat = nodes.register(null);
        TrustNodes.Node other = nodes.register(null);
        String bait = nodes.submit("another customer's prompt", 4);
        nodes.honest(other, nodes.poll(other)); // queues a canary
        JsonNode cheatsOnCanary = nodes.poll(cheat);
        assertEquals("canary", checkKind(cheatsOnCanary.path("job_id").asText()));
        nodes.forged(cheat, cheatsOnCanary, 3);
        backend.verification().verifyPending();
        assertEquals(1, nodes.me(cheat).path("reputation_score").asInt(),
                "a failed canary is a detected cheat: 100 * 2 / (2 + 2 + 100)");
        assertNull(nodes.poll(cheat), "and the identity is shadow-banned");
        drain(List.of(other).iterator(), nodes::honest);
        backend.verification().verifyPending();
        assertEquals("completed", nodes.job(bait).path("status").asText());
        assertLedgerConsistent(backend.database());
    }

    private String detail(String jobId) {
        return backend.database().execute().get("SELECT verification_detail FROM jobs WHERE id = ?", jobId)
                .map(r -> r.column("verification_detail").getString()).orElseThrow();
    }

    /** The Verified node's result for a new job, and its replica's lease taken by {@code checker}. */
    private JsonNode[] resultAndReplica(TrustNodes.Node worker, TrustNodes.Node checker, TrustNodes.Node probation,
                                        String prompt) {
        String jobId = nodes.submit(prompt, 4);
        JsonNode lease = nodes.poll(worker);
        assertEquals(jobId, lease.path("job_id").asText());
        JsonNode accepted = nodes.honest(worker, lease);
        assertEquals("pending", accepted.path("verification").asText(), "on the wire as any checked result");
        assertEquals("verifying", nodes.job(jobId).path("status").asText());
        assertEquals("redundant", nodes.job(jobId).path("verification").asText());
        JsonNode canary = nodes.poll(worker); // the canary its lease queued
        assertEquals("canary", checkKind(canary.path("job_id").asText()));
        nodes.honest(worker, canary);
        assertNull(nodes.poll(worker), "the replica is never leased to the identity it checks");
        assertNull(nodes.poll(probation), "nor to a Probation session (a fresh Sybil cannot confirm itself)");
        JsonNode replica = checker == null ? null : nodes.poll(checker);
        if (replica != null) {
            assertEquals("replica", checkKind(replica.path("job_id").asText()));
            assertEquals(lease.path("prompt"), replica.path("prompt"));
            assertEquals(lease.path("sampling"), replica.path("sampling"));
        }
        return new JsonNode[] {lease, replica};
    }

    @Test
    void redundantRunsThatAgreePassWithoutTheVerifier() {
        TrustNodes.Node b = verifiedNode();
        TrustNodes.Node c = verifiedNode();
        JsonNode[] runs = resultAndReplica(b, c, nodes.register(null), "checked by a second node");
        String jobId = runs[0].path("job_id").asText();
        long spentBefore = payerSpent();
        nodes.honest(c, runs[1]);
        assertEquals(spentBefore + PRICE, payerSpent(), "the platform pays the replica");
        backend.verification().verifyPending();
        assertEquals("passed", nodes.job(jobId).path("verification").asText());
        assertTrue(detail(jobId).startsWith("equals a second identity's run"), detail(jobId));
        assertTrue(detail(runs[1].path("job_id").asText()).startsWith("equals a second identity's run"));
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aMismatchIsSettledByTheVerifier() {
        TrustNodes.Node b = verifiedNode();
        TrustNodes.Node liar = verifiedNode();
        JsonNode[] runs = resultAndReplica(b, liar, nodes.register(null), "a replica that lies");
        String jobId = runs[0].path("job_id").asText();
        nodes.forged(liar, runs[1], 11);
        backend.verification().verifyPending();
        assertEquals("passed", nodes.job(jobId).path("verification").asText(), "the honest run passes");
        assertTrue(detail(jobId).contains("within the margin"), "decided teacher-forced: " + detail(jobId));
        assertEquals("probation", nodes.me(liar).path("tier").asText(), "the liar's failure counts");
        assertTrue(nodes.me(liar).path("reputation_score").asInt() < 60);
        // the replica went back to the queue; a third Verified node finishes it
        TrustNodes.Node d = verifiedNode();
        JsonNode again = nodes.poll(d);
        assertEquals(runs[1].path("job_id").asText(), again.path("job_id").asText());
        nodes.honest(d, again);
        backend.verification().verifyPending();
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aReplicaThatDoesNotComeBackFallsBackToTheVerifier() {
        TrustNodes.Node b = verifiedNode();
        JsonNode[] runs = resultAndReplica(b, null, nodes.register(null), "nobody checks this one");
        String jobId = runs[0].path("job_id").asText();
        backend.verification().verifyPending();
        assertEquals("redundant", nodes.job(jobId).path("verification").asText(), "still waiting for the replica");
        CLOCK.advance(Duration.ofSeconds(301));
        backend.verification().verifyPending();
        assertEquals("passed", nodes.job(jobId).path("verification").asText());
        assertTrue(detail(jobId).contains("within the margin"), detail(jobId));
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM jobs WHERE replica_of = ? AND status = "
                + "'failed'", jobId), "the replica is dropped");
        assertLedgerConsistent(backend.database());
    }
}
