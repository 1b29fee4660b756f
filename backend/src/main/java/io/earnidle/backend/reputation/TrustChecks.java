package io.earnidle.backend.reputation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.logging.Logger;

import io.earnidle.backend.canary.Canaries;
import io.earnidle.backend.canary.PlatformJobs;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.db.StoredText;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.verification.ResultVerifier;
import io.earnidle.backend.verification.VerificationQueue;
import io.helidon.dbclient.DbRow;
import io.helidon.dbclient.DbTransaction;

import static io.earnidle.backend.db.Database.ts;

/**
 * The trust layer's part in verification (docs/trust.md): canary results are judged against their known answer,
 * a result and its replica that agree token for token pass without the verifier (on a mismatch each is verified
 * teacher-forced, which decides who is wrong), every verdict moves the identity's reputation, and a failed one is a
 * detected cheat that forfeits all the identity's pending credits ({@link CheatPenalty}).
 */
public final class TrustChecks implements VerificationQueue.Checks {
    private static final Logger LOG = Logger.getLogger(TrustChecks.class.getName());

    private final Reputation reputation;
    private final Canaries canaries;
    private final CheatPenalty penalty;
    private final Database db;
    private final Ledger ledger;
    private final Passed alsoPassed;

    /** What else a passed result decides, in the verifier's transaction (capability's re-benchmark check). */
    @FunctionalInterface
    public interface Passed {
        void passed(DbTransaction tx, DbRow job, String sessionId);
    }

    public TrustChecks(Reputation reputation, Canaries canaries, CheatPenalty penalty, Database db, Ledger ledger,
                       Passed alsoPassed) {
        this.reputation = reputation;
        this.canaries = canaries;
        this.penalty = penalty;
        this.db = db;
        this.ledger = ledger;
        this.alsoPassed = alsoPassed;
    }

    /** Results whose replica did not come back in time (or failed) go to the verifier; the replica is dropped. */
    @Override
    public void beforeRound(Instant now) {
        Instant cutoff = now.minusSeconds(reputation.settings().redundancyMaxWaitSeconds());
        for (DbRow row : Database.list(db.execute(), "redundancy-overdue", ts(cutoff))) {
            db.inTransaction(tx -> {
                tx.namedUpdate("redundancy-release", Database.str(row, "replica_of"));
                tx.namedUpdate("replica-cancel", Database.str(row, "id"));
                return null;
            });
        }
    }

    @Override
    public Optional<ResultVerifier.Verdict> decide(DbRow job, DbRow result, int[] claimedIds) {
        String text = StoredText.read(result, "result_text");
        String kind = PlatformJobs.checkKind(job);
        if ("canary".equals(kind)) {
            return canaries.check(job, claimedIds, text);
        }
        String otherJob = "replica".equals(kind) ? Database.str(job, "replica_of")
                : Database.get(db.execute(), "replica-of-job", Database.str(job, "id"))
                        .map(r -> Database.str(r, "id")).orElse(null);
        if (otherJob == null) {
            return Optional.empty();
        }
        Optional<DbRow> other = Database.get(db.execute(), "result-by-job", otherJob);
        if (other.isEmpty() || Database.str(other.get(), "session_id").equals(Database.str(result, "session_id"))) {
            return Optional.empty();
        }
        try {
            int[] otherIds = Json.MAPPER.readValue(Database.str(other.get(), "token_ids_json"), int[].class);
            if (Arrays.equals(otherIds, claimedIds) && StoredText.read(other.get(), "result_text").equals(text)) {
                return Optional.of(new ResultVerifier.Verdict(true, "equals a second identity's run",
                        claimedIds.length, 0));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Optional.empty(); // they differ: the verifier decides which is wrong
    }

    @Override
    public void passed(DbTransaction tx, DbRow job, String sessionId) {
        reputation.recordSuccess(tx, sessionId, ledger.now());
        alsoPassed.passed(tx, job, sessionId);
    }

    @Override
    public void failed(DbTransaction tx, DbRow job, String sessionId) {
        reputation.recordFailure(tx, sessionId, ledger.now());
        String identity = Reputation.identityOf(tx, sessionId);
        int n = penalty.forfeitPending(tx, identity, Database.str(job, "id"));
        LOG.info(() -> identity + " caught cheating on job " + Database.str(job, "id") + ": " + n
                + " pending credits forfeited");
    }
}
