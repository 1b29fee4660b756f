package io.earnidle.backend.reputation;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import io.earnidle.backend.db.Database;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * Reputation of node identities (docs/trust.md). An identity is the verified wallet a session is linked to
 * ({@code wallet:<address>}: it survives new sessions) or, without one, the session itself
 * ({@code session:<id>}). Its public score 0–100 is
 * {@code 100 (S + a) / (S + a + b + wf F + wt T)} over verified successes S, failed verifications F and leases that
 * expired without a result T, with the configured prior a, b and weights wf, wt. Its tier: Probation, or Verified /
 * Trusted once both the score and the verified successes since the last failure reach the tier's thresholds; a
 * session without a wallet stays in Probation. Below {@code ban-below} the identity is shadow-banned.
 */
public final class Reputation {
    private static final String WALLET = "wallet:";
    private static final String SESSION = "session:";

    private final ReputationSettings settings;

    public Reputation(ReputationSettings settings) {
        this.settings = settings;
    }

    public ReputationSettings settings() {
        return settings;
    }

    /** Where an identity stands. */
    public record Standing(String identity, boolean wallet, long successes, long failures, long timeouts,
                           long successesSinceFailure, int score, Tier tier, boolean banned) {
    }

    /** The identity of a node session: its wallet's when linked, else its own. */
    public static String identityOf(DbExecute exec, String sessionId) {
        DbRow row = Database.get(exec, "rep-session", sessionId)
                .orElseThrow(() -> new IllegalStateException("no node session " + sessionId));
        return identity(Database.str(row, "wallet_address"), sessionId);
    }

    private static String identity(String wallet, String sessionId) {
        return wallet != null ? WALLET + wallet : SESSION + sessionId;
    }

    /** The node sessions of an identity (a wallet's linked sessions, or the one session). */
    public static List<String> sessionsOf(DbExecute exec, String identity) {
        if (identity.startsWith(WALLET)) {
            return Database.list(exec, "w-linked-sessions", identity.substring(WALLET.length())).stream()
                    .map(r -> Database.str(r, "id")).toList();
        }
        return List.of(identity.substring(SESSION.length()));
    }

    /** The standing of a session's identity, its wallet and counters read in one query. */
    public Standing ofSession(DbExecute exec, String sessionId) {
        DbRow row = Database.get(exec, "rep-of-session", sessionId)
                .orElseThrow(() -> new IllegalStateException("no node session " + sessionId));
        return standing(identity(Database.str(row, "wallet_address"), sessionId), counter(row, "successes"),
                counter(row, "failures"), counter(row, "timeouts"), counter(row, "successes_since_failure"));
    }

    /** A counter of a rep-of-session row: 0 when the identity has no reputations row yet. */
    private static long counter(DbRow row, String column) {
        Long n = Database.lngOrNull(row, column);
        return n == null ? 0 : n;
    }

    public Standing of(DbExecute exec, String identity) {
        Optional<DbRow> row = Database.get(exec, "rep-by-identity", identity);
        long s = row.map(r -> Database.lng(r, "successes")).orElse(0L);
        long f = row.map(r -> Database.lng(r, "failures")).orElse(0L);
        long t = row.map(r -> Database.lng(r, "timeouts")).orElse(0L);
        long since = row.map(r -> Database.lng(r, "successes_since_failure")).orElse(0L);
        return standing(identity, s, f, t, since);
    }

    /** The standing of counters (also what the simulation and the docs' figures use). */
    public Standing standing(String identity, long s, long f, long t, long since) {
        boolean wallet = identity.startsWith(WALLET);
        int score = score(s, f, t);
        Tier tier = Tier.PROBATION;
        if (wallet) {
            for (Tier candidate : List.of(Tier.TRUSTED, Tier.VERIFIED)) {
                ReputationSettings.Threshold th = settings.tiers().get(candidate);
                if (score >= th.minScore() && since >= th.minSuccesses()) {
                    tier = candidate;
                    break;
                }
            }
        }
        return new Standing(identity, wallet, s, f, t, since, score, tier, score < settings.banBelow());
    }

    /** The score 0–100 (rounded down) of these counters. */
    public int score(long successes, long failures, long timeouts) {
        double num = successes + settings.priorSuccesses();
        double den = num + settings.priorFailures() + settings.failureWeight() * failures
                + settings.timeoutWeight() * timeouts;
        return (int) Math.floor(100 * num / den + 1e-9);
    }

    /** A result of the session passed verification (teacher-forced, a canary's answer, or a replica's). */
    public void recordSuccess(DbExecute exec, String sessionId, Instant now) {
        exec.namedUpdate("rep-success", ts(now), ensure(exec, sessionId, now));
    }

    /** A result of the session failed verification: a detected cheat. */
    public void recordFailure(DbExecute exec, String sessionId, Instant now) {
        exec.namedUpdate("rep-failure", ts(now), ts(now), ensure(exec, sessionId, now));
    }

    /** A lease of the session expired without a result. */
    public void recordTimeout(DbExecute exec, String sessionId, Instant now) {
        exec.namedUpdate("rep-timeout", ts(now), ensure(exec, sessionId, now));
    }

    /**
     * The session's identity, with its row created when missing. Two transactions creating the same row at once:
     * one fails on the primary key and is retried by its caller (the verification queue retries every round).
     */
    private static String ensure(DbExecute exec, String sessionId, Instant now) {
        String identity = identityOf(exec, sessionId);
        if (Database.get(exec, "rep-by-identity", identity).isEmpty()) {
            exec.namedInsert("rep-insert", identity, ts(now));
        }
        return identity;
    }
}
