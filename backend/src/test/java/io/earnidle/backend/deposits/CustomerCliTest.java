package io.earnidle.backend.deposits;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import io.earnidle.backend.CliRun;
import io.earnidle.backend.Backend;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.config.Config;
import io.helidon.dbclient.DbRow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./earnidle customer credit}: a manual top-up is one zero-sum ledger transaction from the external deposits
 * account, recorded with the operator, the reason and the amount; anything incomplete or unknown is refused and
 * changes nothing.
 */
class CustomerCliTest {
    private static final String CUSTOMER = "demo-customer";
    private Path dir;
    private Config config;
    private String out;
    private String err;

    @BeforeEach
    void createDatabase() throws Exception {
        dir = Files.createTempDirectory("earnidle-customer-cli");
        config = CliRun.config(dir);
        Backend.create(config, Clock.systemUTC()).close(); // migrated, with the demo customer
    }

    @AfterEach
    void deleteDatabase() throws Exception {
        CliRun.deleteTree(dir);
    }

    private int run(String... args) {
        CliRun.Result r = CliRun.run(CustomerCli::run, config, args);
        out = r.out();
        err = r.err();
        return r.status();
    }

    private <T> T withDb(java.util.function.Function<Database, T> f) {
        try (Database db = Database.open(config.get("db"), io.earnidle.backend.settings.Settings.from(
                config.get("earnidle")))) {
            return f.apply(db);
        }
    }

    private long balance() {
        return withDb(db -> Database.get(db.execute(), "ledger-account", Ledger.accountId("customer", CUSTOMER))
                .map(r -> Database.lng(r, "balance_micro_usdc")).orElseThrow());
    }

    @Test
    void aManualCreditIsRecordedWithWhoAndWhy() {
        long before = balance();
        assertEquals(0, run("credit", "--customer", CUSTOMER, "--amount-micro-usdc", "2500000", "--reason",
                "wire transfer 2026-12-01, ticket 42", "--operator", "alice"), err);
        assertTrue(out.contains("credited 2500000 micro-USDC to " + CUSTOMER), out);
        assertTrue(out.contains("balance now " + (before + 2_500_000)), out);
        assertEquals(before + 2_500_000, balance());

        List<DbRow> credits = withDb(db -> new Deposits(db, null).manualCredits(CUSTOMER));
        assertEquals(1, credits.size());
        DbRow c = credits.get(0);
        assertEquals("alice", Database.str(c, "operator"));
        assertEquals("wire transfer 2026-12-01, ticket 42", Database.str(c, "reason"));
        assertEquals(2_500_000, Database.lng(c, "amount_micro_usdc"));
        String ledgerTx = Database.str(c, "ledger_transaction_id");
        withDb(db -> {
            List<DbRow> entries = Database.list(db.execute(), "entries-of-transaction", ledgerTx);
            assertEquals(2, entries.size());
            assertEquals(0, entries.stream().mapToLong(r -> Database.lng(r, "amount_micro_usdc")).sum());
            assertTrue(entries.stream().anyMatch(r -> Ledger.DEPOSITS_ACCOUNT.equals(Database.str(r, "account_id"))
                    && Database.lng(r, "amount_micro_usdc") == -2_500_000));
            return null;
        });

        assertEquals(0, run("credits", "--customer", CUSTOMER), err);
        assertTrue(out.contains("2500000 micro-USDC  by alice: wire transfer 2026-12-01, ticket 42"), out);
        assertTrue(out.contains("balance " + (before + 2_500_000)), out);
    }

    @Test
    void incompleteOrUnknownCreditsAreRefused() {
        long before = balance();
        assertEquals(2, run("credit", "--customer", CUSTOMER, "--amount-micro-usdc", "100"), "no reason");
        assertTrue(err.contains("usage"), err);
        assertEquals(2, run("credit", "--customer", CUSTOMER, "--amount-micro-usdc", "1.5", "--reason", "x"));
        assertEquals(1, run("credit", "--customer", CUSTOMER, "--amount-micro-usdc", "100", "--reason", "  "));
        assertTrue(err.contains("reason"), err);
        assertEquals(1, run("credit", "--customer", CUSTOMER, "--amount-micro-usdc", "0", "--reason", "x"));
        assertEquals(1, run("credit", "--customer", CUSTOMER, "--amount-micro-usdc", "100", "--reason", "x",
                "--operator", " "));
        assertEquals(1, run("credit", "--customer", "nobody", "--amount-micro-usdc", "100", "--reason", "x"));
        assertTrue(err.contains("no customer nobody"), err);
        assertEquals(2, run("refund", "--customer", CUSTOMER));
        assertEquals(before, balance(), "nothing was credited");
        assertEquals(0, withDb(db -> new Deposits(db, null).manualCredits(CUSTOMER)).size());
    }
}
