package io.earnidle.backend.auth;

import java.time.Instant;

import io.earnidle.backend.db.Database;
import io.helidon.dbclient.DbExecute;

/**
 * Pending payout wallet changes: a publisher who already has a proved payout wallet and proves another gets it
 * only {@code payout-wallet-change-delay-hours} later (a notice says so at once), so a stolen portal session cannot
 * redirect the next withdrawal before the owner sees it. A due change is applied when the address is next read.
 */
public final class PayoutWalletChanges {
    private PayoutWalletChanges() {
    }

    /** Applies the publisher's pending change if its time has come. */
    public static void applyDue(DbExecute exec, String publisherId, Instant now) {
        exec.namedUpdate("apply-pending-payout-address", publisherId, Database.ts(now));
    }
}
