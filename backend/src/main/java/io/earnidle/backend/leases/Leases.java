package io.earnidle.backend.leases;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.billing.PromptTokens;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.db.StoredText;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.models.Models;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;
import io.helidon.dbclient.DbTransaction;

import static io.earnidle.backend.db.Database.ts;

/**
 * Leases that fit the job (docs/trust.md): a lease's length comes from the node's capability, the job's size and
 * the download left ({@link LeaseSizer}); heartbeats renew it and store the partial output; a lease that expires
 * without a heartbeat, or that the node reports as failed, ends as a failed attempt that counts against the node
 * ({@code lease_failures}) and re-queues the job, or fails it after {@code earnidle.trust.max-attempts} failed
 * attempts (rejected results included); a session holds at most {@code max-per-session} leases.
 */
public final class Leases {
    private static final Logger LOG = Logger.getLogger(Leases.class.getName());
    private static final int EXPIRE_BATCH = 64;

    /** The state of a job's lease after a heartbeat. */
    public record Renewed(Instant expiresAt, long tokensDone) {
    }

    /** A lease ended without a result: the job's new status ({@code queued} or {@code failed}) and its count. */
    public record Ended(String status, long failedAttempts) {
    }

    private final LeaseSettings settings;
    private final int maxAttempts;
    private final Database db;
    private final Ledger ledger;
    private final Models models;
    private final NodeCapability capability;
    private final LeaseSizer sizer;
    private final TimeoutListener timeouts;

    /** Told, after the watchdog's transaction, of each lease that ran out: a timeout in the node's reputation. */
    @FunctionalInterface
    public interface TimeoutListener {
        void timedOut(String sessionId, Instant at);
    }

    public Leases(LeaseSettings settings, int maxAttempts, Database db, Ledger ledger, Models models,
                  NodeCapability capability, TimeoutListener timeouts) {
        this.settings = settings;
        this.maxAttempts = maxAttempts;
        this.db = db;
        this.ledger = ledger;
        this.models = models;
        this.capability = capability;
        this.sizer = new LeaseSizer(settings);
        this.timeouts = timeouts;
    }

    public LeaseSettings settings() {
        return settings;
    }

    public int maxAttempts() {
        return maxAttempts;
    }

    // ---------------------------------------------------------------- granting

    /**
     * Locks the session's row (so two polls of one session are granted one after the other) and refuses with 429
     * when it already holds {@code max-per-session} unexpired leases; call in the transaction that claims the job.
     */
    public void requireBelowCap(DbTransaction tx, String sessionId, Instant now) {
        Database.get(tx, "lock-node-session", sessionId);
        List<DbRow> active = Database.list(tx, "session-active-leases", sessionId, ts(now));
        if (active.size() >= settings.maxPerSession()) {
            Instant first = Database.instant(active.getFirst(), "lease_expires_at");
            long retry = Math.max(1, Duration.between(now, first).toSeconds());
            throw Problem.rateLimited("lease-cap", "Too many leases",
                    "this session already holds " + active.size() + " lease(s), the most a session may hold ("
                            + "earnidle.leases.max-per-session " + settings.maxPerSession()
                            + "); finish or report them first", retry);
        }
    }

    /**
     * The expiry of a lease of {@code job} (a {@code jobs} row, its model {@code model}) for {@code sessionId} from
     * now, sized before the claim that sets it, so that a lease writes the job row once: the model's download unless
     * the session holds it, then the prompt and output tokens at the session's measured speed.
     */
    public Instant expiry(DbExecute exec, DbRow job, Models.Model model, String sessionId, Instant now) {
        return now.plusSeconds(wholeJobSeconds(exec, job, model, sessionId));
    }

    /** The whole job's estimate: the model's download unless the session holds it, the prompt, the output tokens. */
    private long wholeJobSeconds(DbExecute exec, DbRow job, Models.Model model, String sessionId) {
        NodeCapability.Fit fit = capability.fit(exec, sessionId, model);
        long download = fit.holdsModel() ? 0 : model.sizeBytes();
        return sizer.seconds(fit.speed(), promptTokens(job), Database.lng(job, "max_tokens"), download,
                bandwidthKbps(exec, sessionId));
    }

    /** Opens the progress row of the lease {@code leaseId} of {@code jobId}, just claimed by {@code sessionId}. */
    public void open(DbTransaction tx, String jobId, String sessionId, String leaseId, Instant now) {
        tx.namedDelete("delete-job-progress", jobId);
        tx.namedInsert("insert-job-progress", jobId, leaseId, sessionId, ts(now), 0, "[]", "", 0, ts(now));
    }

    private static long promptTokens(DbRow job) {
        String ids = Database.str(job, "prompt_ids_json");
        return PromptTokens.upperBound(Database.str(job, "prompt"), ids == null ? 0 : Json.parse(ids).size());
    }

    /** The download speed assumed: min-bandwidth-kbps, or the node's own bandwidth limit when that is lower. */
    private long bandwidthKbps(DbExecute exec, String sessionId) {
        long kbps = settings.minBandwidthKbps();
        Optional<DbRow> s = Database.get(exec, "lease-session-limits", sessionId);
        if (s.isPresent()) {
            JsonNode limit = Json.parse(Database.str(s.get(), "limits_json")).path("bandwidth_kbps");
            if (limit.canConvertToLong() && limit.longValue() > 0) {
                kbps = Math.min(kbps, limit.longValue());
            }
        }
        return kbps;
    }

    // ---------------------------------------------------------------- heartbeats

    /**
     * The decoded text the node holding {@code jobId} has reported so far (unverified), empty when the job is not
     * leased or its node has reported nothing. A stale lease's text is never returned.
     */
    public Optional<String> partialText(String jobId) {
        return Database.get(db.execute(), "current-partial-text", jobId)
                .map(r -> StoredText.read(r, "partial_text"));
    }

    /**
     * A heartbeat of {@code sessionId} for its lease of {@code jobId}: stores the output so far and extends the lease
     * by the time the remaining tokens need (never shortening it, never past {@code max-total-seconds} after it was
     * granted). 404 unknown job; 409 when the lease is not the job's current one for this session, or expired; 400
     * when the progress does not fit the job.
     */
    public Renewed progress(String sessionId, String jobId, String leaseId, int[] tokenIds, String text) {
        Instant now = ledger.now();
        return db.inTransaction(tx -> {
            DbRow job = lockCurrentLease(tx, sessionId, jobId, leaseId, now);
            long maxTokens = Database.lng(job, "max_tokens");
            if (tokenIds.length > maxTokens) {
                throw Problem.validation("tokens_done must be at most max_tokens " + maxTokens + ", got "
                        + tokenIds.length);
            }
            Models.Model model = models.find(tx, Database.str(job, "model_id")).orElseThrow();
            for (int i = 0; i < tokenIds.length; i++) {
                if (tokenIds[i] >= model.vocabSize()) {
                    throw Problem.validation("token_ids[" + i + "] = " + tokenIds[i]
                            + " is outside the model's vocabulary of " + model.vocabSize());
                }
            }
            Optional<DbRow> before = Database.get(tx, "job-progress", jobId)
                    .filter(p -> leaseId.equals(Database.str(p, "lease_id")));
            long doneBefore = before.map(p -> Database.lng(p, "tokens_done")).orElse(0L);
            if (tokenIds.length < doneBefore) {
                throw Problem.validation("tokens_done went back from " + doneBefore + " to " + tokenIds.length);
            }
            Instant leasedAt = before.map(p -> Database.instant(p, "leased_at")).orElse(now);
            long seconds = renewalSeconds(tx, sessionId, job, model, before, tokenIds.length, now);
            Instant current = Database.instant(job, "lease_expires_at");
            Instant wanted = now.plusSeconds(seconds);
            Instant limit = leasedAt.plusSeconds(settings.maxTotalSeconds());
            Instant capped = wanted.isAfter(limit) ? limit : wanted;
            Instant expires = capped.isAfter(current) ? capped : current;
            if (tx.namedUpdate("renew-lease", ts(expires), jobId, Database.lng(job, "version"), leaseId) != 1) {
                throw Problem.conflict("job " + jobId + " changed while the heartbeat was applied");
            }
            String idsJson = Json.write(tokenIds);
            if (before.isEmpty()) {
                tx.namedDelete("delete-job-progress", jobId);
                tx.namedInsert("insert-job-progress", jobId, leaseId, sessionId, ts(now), tokenIds.length, idsJson,
                        StoredText.encode(text), 1, ts(now));
            } else {
                tx.namedUpdate("update-job-progress", tokenIds.length, idsJson, StoredText.encode(text), ts(now), jobId,
                        leaseId);
            }
            return new Renewed(expires, tokenIds.length);
        });
    }

    /**
     * The renewal: before the first token the whole job's estimate (download and prefill may still be running);
     * after it the tokens left at the slower of the node's capability and the speed its heartbeats show.
     */
    private long renewalSeconds(DbExecute exec, String sessionId, DbRow job, Models.Model model,
                                Optional<DbRow> before, long done, Instant now) {
        if (done == 0) {
            return wholeJobSeconds(exec, job, model, sessionId);
        }
        long maxTokens = Database.lng(job, "max_tokens");
        double decode = capability.speed(exec, sessionId, model).decodeTokensPerS();
        if (before.isPresent()) {
            long doneBefore = Database.lng(before.get(), "tokens_done");
            double elapsed = Duration.between(Database.instant(before.get(), "updated_at"), now).toMillis() / 1000.0;
            if (done > doneBefore && elapsed > 0) {
                decode = Math.min(decode, (done - doneBefore) / elapsed);
            }
        }
        return sizer.renewalSeconds(decode, maxTokens - done);
    }

    // ---------------------------------------------------------------- failures and timeouts

    /** A failure the node reports: the lease ends at once and the attempt counts as failed. */
    public Ended failure(String sessionId, String jobId, String leaseId, String reason, String detail) {
        Instant now = ledger.now();
        return db.inTransaction(tx -> {
            DbRow job = lockCurrentLease(tx, sessionId, jobId, leaseId, now);
            return end(tx, job, "reported", reason, detail, now);
        });
    }

    /**
     * The watchdog's round: every job whose lease expired by now without a heartbeat goes back to the queue (or
     * fails after max-attempts), counted against the node as a timeout; returns how many leases it ended.
     */
    public int expireStalled() {
        return expireStalled(ledger.now());
    }

    /** {@link #expireStalled()} at {@code now}. */
    public int expireStalled(Instant now) {
        int ended = 0;
        while (true) {
            List<DbRow> expired = Database.list(db.execute(), "expired-leases", ts(now), EXPIRE_BATCH);
            int round = 0;
            for (DbRow row : expired) {
                String jobId = Database.str(row, "id");
                String holder = db.inTransaction(tx -> {
                    DbRow job = Database.get(tx, "lock-job", jobId).orElseThrow();
                    Instant at = Database.instant(job, "lease_expires_at");
                    if (!"leased".equals(Database.str(job, "status")) || at == null || at.isAfter(now)) {
                        return null; // renewed, submitted or expired by another thread meanwhile
                    }
                    Ended e = end(tx, job, "timeout", "timeout", "no heartbeat or result before " + at, now);
                    LOG.info(() -> "job " + jobId + ": lease " + Database.str(job, "lease_id") + " of "
                            + Database.str(job, "leased_to") + " expired, job " + e.status());
                    return Database.str(job, "leased_to");
                });
                if (holder != null) {
                    timeouts.timedOut(holder, now);
                    round++;
                }
            }
            ended += round;
            if (expired.size() < EXPIRE_BATCH || round == 0) {
                return ended;
            }
        }
    }

    /** Ends the locked job's lease as a failed attempt of kind {@code timeout} or {@code reported}. */
    private Ended end(DbTransaction tx, DbRow job, String kind, String reason, String detail, Instant now) {
        String jobId = Database.str(job, "id");
        String leaseId = Database.str(job, "lease_id");
        Optional<DbRow> progress = Database.get(tx, "job-progress", jobId)
                .filter(p -> leaseId.equals(Database.str(p, "lease_id")));
        long tokensDone = progress.map(p -> Database.lng(p, "tokens_done")).orElse(0L);
        Instant leasedAt = progress.map(p -> Database.instant(p, "leased_at")).orElse(null);
        tx.namedInsert("insert-lease-failure", Ids.newId("lf_"), jobId, leaseId, kind, reason, detail, tokensDone,
                ts(leasedAt), ts(now), Database.str(job, "leased_to"));
        long failed = Database.count(tx, "failed-attempt-count", jobId);
        String status = failed >= maxAttempts ? "failed" : "queued";
        if (tx.namedUpdate("end-lease", status, jobId, Database.lng(job, "version")) != 1) {
            throw new IllegalStateException("job " + jobId + " changed under its row lock");
        }
        return new Ended(status, failed);
    }

    /** The job's row, locked, when {@code leaseId} is its current unexpired lease held by {@code sessionId}. */
    private static DbRow lockCurrentLease(DbTransaction tx, String sessionId, String jobId, String leaseId,
                                          Instant now) {
        DbRow job = Database.get(tx, "lock-job", jobId).orElseThrow(() -> Problem.notFound("no job " + jobId));
        if (!"leased".equals(Database.str(job, "status")) || !leaseId.equals(Database.str(job, "lease_id"))
                || !sessionId.equals(Database.str(job, "leased_to"))) {
            throw Problem.conflict("lease " + leaseId + " is not the current lease of job " + jobId
                    + " for this session (the job is " + Database.str(job, "status") + ")");
        }
        Instant expires = Database.instant(job, "lease_expires_at");
        if (!expires.isAfter(now)) {
            throw Problem.conflict("lease " + leaseId + " expired at " + expires);
        }
        return job;
    }
}
