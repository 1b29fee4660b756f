package io.earnidle.backend;

import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
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
 * A detected cheat (docs/trust.md): every pending credit of the identity is reversed — on all sessions of its wallet,
 * for verified and still unverified results alike — and the identity, now below the ban score, is shadow-banned:
 * its polls (any session of the wallet) get 204 while the jobs go to other nodes.
 */
@ServerTest
class CheatPenaltyTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final String CUSTOMER = Ledger.accountId("customer", "demo-customer");
    private static final long PRICE = 200 + 60 * 4;
    private static final Ledger.Split SPLIT = Ledger.split(PRICE, 1000, 2000);
    private final TestSupport.Api api;
    private final TrustNodes nodes;

    CheatPenaltyTest(Http1Client client) {
        this.api = new TestSupport.Api(client);
        this.nodes = new TrustNodes(api);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.ledger.verification-window-seconds", "600",
                "earnidle.trust.verifier-threads", "0",
                "earnidle.trust.canary.rate", "0"), CLOCK);
    }

    private long pending(String account) {
        return backend.ledger().pending(backend.database().execute(), account);
    }

    private JsonNode lease(TrustNodes.Node node, String jobId) {
        JsonNode lease = nodes.poll(node);
        assertNotNull(lease);
        assertEquals(jobId, lease.path("job_id").asText());
        return lease;
    }

    @Test
    void aDetectedCheatForfeitsEveryPendingCreditOfTheWallet() {
        String wallet = nodes.wallet(CLOCK.instant());
        TrustNodes.Node first = nodes.register(wallet);
        TrustNodes.Node second = nodes.register(wallet);
        // two results verified and passed, still inside the window (pending)
        String passedA = nodes.submit("passed a", 4);
        nodes.honest(first, lease(first, passedA));
        String passedB = nodes.submit("passed b", 4);
        nodes.honest(second, lease(second, passedB));
        backend.verification().verifyPending();
        assertEquals("passed", nodes.job(passedA).path("verification").asText());
        assertEquals(SPLIT.visitor(), pending(first.account()));
        assertEquals(SPLIT.visitor(), pending(second.account()));
        long customerBefore = available(CUSTOMER);

        // then a forged result, and an honest one that waits for verification behind it
        String cheated = nodes.submit("cheated", 4);
        CLOCK.advance(Duration.ofMillis(1)); // the queue's order: oldest first
        String waiting = nodes.submit("waiting", 4);
        nodes.forged(second, lease(second, cheated), 7);
        nodes.honest(first, lease(first, waiting));
        assertEquals(2 * SPLIT.visitor(), pending(first.account()));
        backend.verification().verifyPending();

        assertEquals("failed", nodes.job(cheated).path("verification").asText());
        assertEquals(0, pending(first.account()), "the other session's credits are forfeited too");
        assertEquals(0, pending(second.account()));
        JsonNode stillCompleted = nodes.job(passedA);
        assertEquals("completed", stillCompleted.path("status").asText(), "a passed result stays the customer's");
        JsonNode requeued = nodes.job(waiting);
        assertEquals("queued", requeued.path("status").asText(), "an unverified result is rejected and re-queued");
        // the cheated and the waiting job are refunded in full (charged when their results came), and the node's
        // share of the two passed ones comes back to the customer who paid it
        assertEquals(customerBefore + 2 * SPLIT.visitor(), available(CUSTOMER));
        assertLedgerConsistent(backend.database());

        JsonNode me = nodes.me(first);
        assertEquals(3, me.path("reputation_score").asInt(), "100 (2 + 2) / (2 + 2 + 2 + 100)");
        assertEquals("probation", me.path("tier").asText());
        // shadow-banned: every session of the wallet, even a new one, polls into an "empty" queue
        assertNull(nodes.poll(first));
        assertNull(nodes.poll(nodes.register(wallet)));
        TrustNodes.Node honest = nodes.register(null);
        nodes.honest(honest, lease(honest, cheated));
        nodes.honest(honest, lease(honest, waiting));
        backend.verification().verifyPending();

        CLOCK.advance(Duration.ofSeconds(601));
        assertEquals(0, available(first.account()) + available(second.account()), "the cheat never got money");
        assertEquals(2 * SPLIT.visitor(), available(honest.account()));
        assertTrue(count(backend.database(), "SELECT COUNT(*) AS n FROM ledger_transactions WHERE kind = "
                + "'job_payout_reversal'") >= 4);
        assertLedgerConsistent(backend.database());
    }

    /**
     * A credit whose window has run out and whose result passed is the node's, even while it is still marked pending
     * because nobody read the balance since (settling is lazy): a later cheat of the identity does not forfeit it.
     */
    @Test
    void aDueCreditIsNotForfeitedThoughItWasNeverSettled() {
        TrustNodes.Node node = nodes.register(nodes.wallet(CLOCK.instant()));
        String passed = nodes.submit("due", 4);
        nodes.honest(node, lease(node, passed));
        backend.verification().verifyPending();
        assertEquals("passed", nodes.job(passed).path("verification").asText());
        CLOCK.advance(Duration.ofSeconds(601)); // past the window; nothing reads the node's balance meanwhile
        assertEquals(SPLIT.visitor(), pending(node.account()), "due, not settled yet");

        String cheated = nodes.submit("cheated later", 4);
        nodes.forged(node, lease(node, cheated), 7);
        backend.verification().verifyPending();
        assertEquals("failed", nodes.job(cheated).path("verification").asText());
        assertEquals(SPLIT.visitor(), available(node.account()), "the due credit is kept");
        assertEquals(0, pending(node.account()), "the cheated job's credit is gone");
        assertLedgerConsistent(backend.database());
    }
}
