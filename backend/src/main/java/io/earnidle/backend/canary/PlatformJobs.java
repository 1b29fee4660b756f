package io.earnidle.backend.canary;

import java.time.Instant;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * Check jobs the platform pays for (canaries and replicas, docs/trust.md). They belong to the customer row
 * {@value #CUSTOMER} (no usable API key) and their payouts are debited from {@link #PAYER_ACCOUNT}, the platform's
 * budget for checks (an external account: its negative balance is what the checks have cost), so they cost no
 * customer money and every transaction still sums to zero. To a node they are ordinary jobs: same lease JSON, a
 * {@code job_} id, the price of a customer job of the same size.
 */
public final class PlatformJobs {
    public static final String CUSTOMER = "earnidle-checks";
    public static final String PAYER_ACCOUNT = Ledger.accountId("external", "platform-checks");

    private PlatformJobs() {
    }

    /** Creates the check customer and the payer account when missing (idempotent). */
    public static void ensure(Database db, Ledger ledger) {
        db.inTransaction(tx -> {
            if (Database.get(tx, "customer-by-id", CUSTOMER).isEmpty()) {
                // the key hash of a random key nobody holds: the check customer has no API access
                tx.namedInsert("insert-customer", CUSTOMER, "Earn Idle platform checks (canaries, replicas)",
                        Ids.sha256Hex(Ids.randomHex(32)), ts(ledger.now()));
            }
            ledger.ensureAccount(tx, "external", "platform-checks");
            return null;
        });
    }

    /** The account a job's payout is debited from: the customer's, or the platform's check budget. */
    public static String payerAccount(DbRow job) {
        String customer = Database.str(job, "customer_id");
        return CUSTOMER.equals(customer) ? PAYER_ACCOUNT : Ledger.accountId("customer", customer);
    }

    /** The kind of a check job ({@code canary}, {@code replica}), null for a customer's job. */
    public static String checkKind(DbRow job) {
        return Database.str(job, "check_kind");
    }

    /** A new check job, queued now. Returns its id. */
    public static String insert(DbExecute exec, String kind, String modelId, String prompt, String promptIdsJson,
                                boolean addBos, String samplingJson, long maxTokens, long price, String minTier,
                                String replicaOf, String excludeIdentity, Instant now) {
        String id = Ids.newId("job_");
        exec.namedInsert("check-job-insert", id, CUSTOMER, modelId, prompt, promptIdsJson, addBos, samplingJson,
                maxTokens, price, ts(now), minTier, kind, replicaOf, excludeIdentity);
        return id;
    }
}
