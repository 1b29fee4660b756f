package io.earnidle.backend;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.testsupport.PostgresCluster;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static io.earnidle.backend.TestSupport.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A job's payout locks only the account whose balance it changes now, the payer's (the node's, the publisher's and
 * the platform's credits are pending rows): a result is accepted while another transaction changes the balance of
 * every other account (and holds its row lock), so concurrent results never queue on the accounts all of them credit.
 * Runs on H2, and on PostgreSQL in the postgres-store execution.
 */
@ServerTest
class CreditLocksTest extends BackendServerTest {
    private final Api api;

    CreditLocksTest(Http1Client client) {
        this.api = new Api(client);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.ledger.verification-window-seconds", "3600",
                "earnidle.trust.verifier-threads", "0",
                "earnidle.trust.sample-rate", "0"), // synthetic results, paid unverified (docs/trust.md)
                Clock.systemUTC());
    }

    @Test
    void aResultIsAcceptedWhileTheCreditedAccountsAreLocked() {
        String token = api.register();
        JsonNode first = api.submit("warm", 4);
        JsonNode lease = api.lease(token, first.path("id").asText());
        assertEquals(200, api.result(token, Api.resultBody(lease, "a"), UUID.randomUUID().toString()).status());

        JsonNode second = api.submit("held", 4);
        JsonNode held = api.lease(token, second.path("id").asText());
        String customer = Ledger.accountId("customer", "demo-customer");
        Database db = backend.database();
        Resp accepted = db.inTransaction(tx -> {
            // the row lock a balance change holds (add-to-balance; PostgreSQL: FOR NO KEY UPDATE, which its foreign
            // key checks of new entries, FOR KEY SHARE, do not wait for; H2's foreign key checks take no row lock)
            long locked = tx.update("UPDATE ledger_accounts SET balance_micro_usdc = balance_micro_usdc WHERE id <> ?",
                    customer);
            assertTrue(locked >= 3, "platform, publisher and node accounts locked: " + locked);
            return api.result(token, Api.resultBody(held, "b"), UUID.randomUUID().toString());
        });
        assertEquals(200, accepted.status(), accepted.text());
        assertEquals("accepted", accepted.json().path("status").asText());
        assertLedgerConsistent(db);
    }

    /** Ends the transaction that held the entry without committing it. */
    private static final class RolledBack extends RuntimeException {
    }

    /**
     * A result's payout debits its customer's account while another transaction holds an uncommitted entry of that
     * account, as every concurrent result of the customer does between writing its payout and its commit. On
     * PostgreSQL the entry's foreign key holds FOR KEY SHARE on the account row; the debit's row lock must not wait
     * for it (an UPDATE, FOR NO KEY UPDATE; SELECT ... FOR UPDATE did, and two such results deadlocked). The test
     * watches the database's lock waits while the result runs: none may appear.
     */
    @Test
    void aResultIsAcceptedWhileAnotherTransactionHoldsAnEntryOfItsCustomer() {
        String token = api.register();
        JsonNode lease = api.lease(token, api.submit("entry held", 4).path("id").asText());
        String customer = Ledger.accountId("customer", "demo-customer");
        Database db = backend.database();
        String lockWaits = PostgresCluster.active()
                ? "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                + " AND datname = current_database()"
                : "SELECT COUNT(*) AS n FROM INFORMATION_SCHEMA.SESSIONS WHERE BLOCKER_ID IS NOT NULL";
        AtomicReference<Resp> accepted = new AtomicReference<>();
        assertThrows(RolledBack.class, () -> db.inTransaction(tx -> {
            var now = Database.ts(Instant.now());
            String txId = Ids.newId("ltx_");
            tx.dml("INSERT INTO ledger_transactions (id, job_id, kind, created_at) VALUES (?, NULL, 'deposit', ?)",
                    txId, now);
            tx.dml("INSERT INTO ledger_entries (id, transaction_id, account_id, amount_micro_usdc, state,"
                    + " available_at, created_at) VALUES (?, ?, ?, 1, 'pending', ?, ?)", Ids.newId("le_"), txId,
                    customer, now, now);
            CompletableFuture<Resp> result = CompletableFuture.supplyAsync(() -> api.result(token,
                    Api.resultBody(lease, "c"), UUID.randomUUID().toString()));
            while (!result.isDone()) {
                assertEquals(0, count(db, lockWaits), "the result waits for a row lock the entry's transaction holds");
                Thread.onSpinWait();
            }
            accepted.set(result.join());
            throw new RolledBack(); // the held entry never commits
        }));
        assertEquals(200, accepted.get().status(), accepted.get().text());
        assertEquals("accepted", accepted.get().json().path("status").asText());
        assertLedgerConsistent(db);
    }
}
