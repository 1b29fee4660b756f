package io.earnidle.backend.demo;

import java.time.Instant;
import java.util.List;

import io.earnidle.backend.customers.ApiKeys;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.settings.Settings;

import static io.earnidle.backend.db.Database.ts;

/**
 * Idempotent seed data: the platform and deposit accounts, and in demo mode only ({@link Deployment}) the demo
 * publisher, placement and funded customer.
 */
public final class Seeder {
    public static final String DEMO_PUBLISHER = "demo-publisher";
    public static final String DEMO_PLACEMENT = "demo-placement";
    public static final String DEMO_CUSTOMER = "demo-customer";
    /** The demo customer's API key id; its secret is {@code earnidle.demo.customer-api-key}. */
    public static final String DEMO_API_KEY_ID = "key_" + DEMO_CUSTOMER;
    /** The demo customer calling with its demo key. */
    public static final ApiKeys.Caller DEMO_CALLER = new ApiKeys.Caller(DEMO_CUSTOMER, DEMO_API_KEY_ID);
    /** The demo API key printed in the README (the default of {@code earnidle.demo.customer-api-key}). */
    public static final String README_API_KEY = "demo-customer-key";

    private Seeder() {
    }

    /** {@link #seed(Database, Ledger, Settings, Deployment)} in demo mode. */
    public static void seed(Database db, Ledger ledger, Settings settings) {
        seed(db, ledger, settings, new Deployment(false, ""));
    }

    /**
     * Creates the platform and deposit accounts every deployment needs, then, in demo mode only, the demo
     * publisher, placement and the customer with the configured demo key, funded from nothing.
     */
    public static void seed(Database db, Ledger ledger, Settings settings, Deployment deployment) {
        Instant now = ledger.now();
        db.inTransaction(tx -> {
            ledger.ensureAccount(tx, "platform", "platform");
            ledger.ensureAccount(tx, "external", "deposits");
            if (deployment.production()) {
                return null; // production seeds no demo data (and Deployment refused a database holding any)
            }
            if (Database.get(tx, "publisher-by-id", DEMO_PUBLISHER).isEmpty()) {
                tx.namedInsert("insert-publisher", DEMO_PUBLISHER, "Demo publisher", ts(now));
            }
            ledger.ensureAccount(tx, "publisher", DEMO_PUBLISHER);
            if (Database.get(tx, "placement-by-id", DEMO_PLACEMENT).isEmpty()) {
                tx.namedInsert("insert-placement", DEMO_PLACEMENT, DEMO_PUBLISHER, "Demo page", 2000, "active",
                        "{}", ts(now));
            }
            String key = settings.demoCustomerApiKey();
            String keyHash = Ids.sha256Hex(key);
            String prefix = key.substring(0, Math.min(8, key.length()));
            if (Database.get(tx, "customer-by-id", DEMO_CUSTOMER).isEmpty()) {
                tx.namedInsert("customer-insert-keyless", DEMO_CUSTOMER, "Demo customer", ts(now));
                tx.namedInsert("api-key-insert", DEMO_API_KEY_ID, DEMO_CUSTOMER, "demo key", prefix, keyHash,
                        ts(now));
                String account = ledger.ensureAccount(tx, "customer", DEMO_CUSTOMER);
                if (settings.demoCustomerFundingMicroUsdc() > 0) {
                    ledger.post(tx, "deposit", null, List.of(
                            new Ledger.Entry(Ledger.DEPOSITS_ACCOUNT, -settings.demoCustomerFundingMicroUsdc()),
                            new Ledger.Entry(account, settings.demoCustomerFundingMicroUsdc())), false);
                }
            } else {
                // the configured key may have changed between runs: the config is the truth
                tx.namedUpdate("api-key-set-secret", keyHash, prefix, DEMO_API_KEY_ID);
            }
            return null;
        });
    }
}
