package io.earnidle.backend.reputation;

import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.earnidle.backend.canary.PlatformJobs;
import io.earnidle.backend.db.Database;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;
import io.helidon.dbclient.DbTransaction;

/**
 * What a node's standing decides on the request path (docs/trust.md): whether its polls get jobs at all (shadow
 * ban), which job classes it may lease (tier gate), how its results are checked (tier sampling rate, redundant runs),
 * and the timeouts of leases that ran out.
 */
public record TrustPolicy(Reputation reputation) {
    private static final Logger LOG = Logger.getLogger(TrustPolicy.class.getName());
    /** How an accepted result is checked: the value of {@code jobs.verification} it starts with. */
    public static final String PENDING = "pending";
    public static final String REDUNDANT = "redundant";
    public static final String SKIPPED = "skipped";

    public Reputation.Standing standing(DbExecute exec, String sessionId) {
        return reputation.ofSession(exec, sessionId);
    }

    /**
     * A lease of {@code sessionId} ran out without a result (the job was leased again): a timeout in its score. Its
     * own transaction; a failure (two first counts of one identity at once) is logged and leaves the count out.
     */
    public void leaseExpired(Database db, String sessionId, Instant now) {
        try {
            db.inTransaction(tx -> {
                reputation.recordTimeout(tx, sessionId, now);
                return null;
            });
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "timeout of session " + sessionId + " not counted", e);
        }
    }

    /**
     * Decides how the result of {@code sessionId} for {@code job} is checked, in the result's transaction: check jobs
     * always ({@code pending}; a replica's result also releases the result it replicates for comparison); customer
     * jobs at the rate of the identity's tier, either by the verifier ({@code pending}) or, when redundancy is on
     * and the identity is above Probation, by a replica run by another identity ({@code redundant}); the rest are
     * {@code skipped}.
     */
    public String onResult(DbTransaction tx, DbRow job, String sessionId, Instant now) {
        String kind = PlatformJobs.checkKind(job);
        if (kind != null) {
            if ("replica".equals(kind)) {
                tx.namedUpdate("redundancy-release", Database.str(job, "replica_of"));
            }
            return PENDING;
        }
        ReputationSettings s = reputation.settings();
        Reputation.Standing st = standing(tx, sessionId);
        double rate = s.sampleRate(st.tier());
        if (!(rate >= 1 || (rate > 0 && ThreadLocalRandom.current().nextDouble() < rate))) {
            return SKIPPED;
        }
        if (!redundant(tx, st)) {
            return PENDING;
        }
        // a second run by another identity of at least Verified (a fresh Sybil session cannot take it)
        PlatformJobs.insert(tx, "replica", Database.str(job, "model_id"), Database.str(job, "prompt"),
                Database.str(job, "prompt_ids_json"), Database.bool(job, "add_bos"),
                Database.str(job, "sampling_json"), Database.lng(job, "max_tokens"),
                Database.lng(job, "price_micro_usdc"), Tier.VERIFIED.key(), Database.str(job, "id"), st.identity(),
                now);
        return REDUNDANT;
    }

    private boolean redundant(DbExecute exec, Reputation.Standing st) {
        ReputationSettings s = reputation.settings();
        if (!s.checkJobsEnabled() || st.tier() == Tier.PROBATION) {
            return false;
        }
        return switch (s.redundancy()) {
            case OFF -> false;
            case ALWAYS -> true;
            case BACKLOG -> Database.count(exec, "verification-backlog") >= s.redundancyBacklog();
        };
    }
}
