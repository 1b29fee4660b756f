package io.earnidle.backend.reputation;

import java.util.Optional;

import io.earnidle.backend.canary.PlatformJobs;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.receipts.Receipts;
import io.earnidle.backend.verification.VerificationQueue;
import io.helidon.dbclient.DbRow;
import io.helidon.dbclient.DbTransaction;

import static io.earnidle.backend.db.Database.ts;

/**
 * A detected cheat costs the identity every credit it still has pending, not only the failed job's (docs/trust.md
 * explains why this makes cheating earn less than honest work). In the failed verdict's transaction, for every
 * pending job-payout credit of every node session of the identity:
 * <ul>
 *   <li>a result still waiting for its verification is rejected as a failed one is (its payout reversed, the
 *   customer refunded, the job re-queued for another node);</li>
 *   <li>a result already completed (passed or not sampled) keeps its status; the node's pending credit is reversed
 *   and refunded to whoever paid the job ({@link Ledger#reverseCredit}).</li>
 * </ul>
 * Every step is a zero-sum reversal transaction; no amount is edited. Money already available is not touched, and
 * neither is a credit that is due (its window has run out and its result passed verification or was not sampled)
 * but not yet settled: settling is lazy (on a read of the balance), and what a cheat forfeits must not depend on
 * whether anyone read it.
 */
public record CheatPenalty(Ledger ledger, VerificationQueue verifier, Receipts receipts) {
    /** Forfeits the identity's pending credits; {@code causeJobId} is the job whose result was caught. */
    public int forfeitPending(DbTransaction tx, String identity, String causeJobId) {
        int forfeited = 0;
        for (String sessionId : Reputation.sessionsOf(tx, identity)) {
            String account = Ledger.accountId("node_session", sessionId);
            for (DbRow credit : Database.list(tx, "rep-pending-credits", account, ts(ledger.now()))) {
                String jobId = Database.str(credit, "job_id");
                DbRow job = Database.get(tx, "lock-job", jobId).orElseThrow();
                Optional<DbRow> result = Database.get(tx, "result-by-job", jobId);
                String why = "forfeited: " + identity + " was caught cheating on job " + causeJobId;
                if ("verifying".equals(Database.str(job, "status")) && result.isPresent()
                        && Database.str(credit, "transaction_id").equals(Database.str(result.get(), "payout_tx_id"))) {
                    verifier.reject(tx, job, result.get(), why, "forfeited");
                } else {
                    if (result.isPresent() && sessionId.equals(Database.str(result.get(), "session_id"))) {
                        receipts.reversal(tx, job, result.get(), Database.lng(credit, "amount_micro_usdc"),
                                "forfeited", Database.str(job, "verification")); // chain locked before accounts
                    }
                    ledger.reverseCredit(tx, "job_payout_reversal", jobId, Database.str(credit, "id"), account,
                            Database.lng(credit, "amount_micro_usdc"), PlatformJobs.payerAccount(job));
                }
                forfeited++;
            }
        }
        return forfeited;
    }
}
