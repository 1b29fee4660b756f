package io.earnidle.backend.demo;

import java.time.Instant;
import java.util.List;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.settings.Settings;

import static io.earnidle.backend.db.Database.ts;

/** Idempotent demo data: publisher, placement, funded customer, platform and deposit accounts. */
public final class Seeder {
    public static final String DEMO_PUBLISHER = "demo-publisher";
    public static final String DEMO_PLACEMENT = "demo-placement";
    public static final String DEMO_CUSTOMER = "demo-customer";

    private Seeder() {
    }

    public static void seed(Database db, Ledger ledger, Settings settings) {
        Instant now = ledger.now();
        db.inTransaction(tx -> {
            ledger.ensureAccount(tx, "platform", "platform");
            ledger.ensureAccount(tx, "external", "deposits");
            if (Database.get(tx, "publisher-by-id", DEMO_PUBLISHER).isEmpty()) {
                tx.namedInsert("insert-publisher", DEMO_PUBLISHER, "Demo publisher", ts(now));
            }
            ledger.ensureAccount(tx, "publisher", DEMO_PUBLISHER);
            if (Database.get(tx, "placement-by-id", DEMO_PLACEMENT).isEmpty()) {
                tx.namedInsert("insert-placement", DEMO_PLACEMENT, DEMO_PUBLISHER, "Demo page", 2000, "active",
                        "{}", ts(now));
            }
            String keyHash = Ids.sha256Hex(settings.demoCustomerApiKey());
            if (Database.get(tx, "customer-by-id", DEMO_CUSTOMER).isEmpty()) {
                tx.namedInsert("insert-customer", DEMO_CUSTOMER, "Demo customer", keyHash, ts(now));
                String account = ledger.ensureAccount(tx, "customer", DEMO_CUSTOMER);
                if (settings.demoCustomerFundingMicroUsdc() > 0) {
                    ledger.post(tx, "deposit", null, List.of(
                            new Ledger.Entry(Ledger.DEPOSITS_ACCOUNT, -settings.demoCustomerFundingMicroUsdc()),
                            new Ledger.Entry(account, settings.demoCustomerFundingMicroUsdc())), false);
                }
            } else {
                // the configured key may have changed between runs: the config is the truth
                tx.namedUpdate("update-customer-key", keyHash, DEMO_CUSTOMER);
            }
            return null;
        });
    }
}
