package io.earnidle.backend.capability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.models.Models;
import io.earnidle.backend.verification.WeightType;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * Which customer jobs a polling session may lease, and whether it should leave one to a better idle session
 * (docs/trust.md, "Eligibility and dispatch"). Dispatch is pull-based, so "prefer the better node" means: a job
 * younger than {@code preference-wait-ms} is not handed to a session while another session that is live (seen within
 * {@code live-seconds}), idle (no unexpired lease) and eligible ranks higher for it, as long as there are at least as
 * many such better sessions as jobs of the model waiting in their preference window (a better session takes one job
 * at a time: with fewer better sessions than waiting jobs, leaving this one to them only made jobs and sessions
 * wait, so the session takes it and the better ones take the others).
 * Rank: holds the model (proved warm) first, then higher reputation, then higher measured decode speed. After the wait
 * anyone eligible gets it, so a busy or vanished favourite delays a job by at most the wait.
 * <p>
 * The idle rivals of a model are one scan of the live sessions (cap-rivals). Each backend instance reads them once per
 * {@code rival-snapshot-ms} and shares that snapshot among its polls, one poll reading while the others use the
 * previous one: a thousand nodes polling made the scan the poll's largest cost, on PostgreSQL the pool's bottleneck. A
 * rival's lease or arrival is thus seen up to that much later, which delays a job by at most the snapshot's age on top
 * of the wait. A job with a rejected result has rivals of its own (not the session that was rejected): read per poll.
 */
final class Dispatch {
    /** What dispatch knows of one session: its eligibility, consent limits, engines and rank inputs. */
    record Standing(String sessionId, boolean eligible, boolean gpuAllowed, Long bandwidthKbps, List<String> engines,
                    Set<String> warm, double reputation, double decodeTokS) {
    }

    private record Rank(boolean warm, double reputation, double decodeTokS) {
    }

    private static final Comparator<Rank> BY_RANK = Comparator.comparing(Rank::warm)
            .thenComparingDouble(Rank::reputation).thenComparingDouble(Rank::decodeTokS);

    private final CapabilitySettings settings;
    private final Models models;
    private final Reputation reputation;
    private final Map<String, Set<String>> tensorTypes = new ConcurrentHashMap<>();
    /** Per model sha256: its idle rivals as this instance last read them (rival-snapshot-ms > 0). */
    private final Map<String, RivalSnapshot> snapshots = new ConcurrentHashMap<>();

    Dispatch(CapabilitySettings settings, Models models, Reputation reputation) {
        this.settings = settings;
        this.models = models;
        this.reputation = reputation;
    }

    /**
     * The standing of a session from its stored limits and engines and its reputation counters (a cap-session or
     * cap-rivals row); eligibility and rank inputs as given.
     */
    Standing standing(DbRow session, boolean eligible, Set<String> warm, double decodeTokS) {
        return standing(session, eligible, warm, decodeTokS, score(session));
    }

    private double score(DbRow session) {
        return reputation.score(Database.lng(session, "rep_successes"), Database.lng(session, "rep_failures"),
                Database.lng(session, "rep_timeouts"));
    }

    private Standing standing(DbRow session, boolean eligible, Set<String> warm, double decodeTokS, double score) {
        JsonNode limits = Json.parse(Database.str(session, "limits_json"));
        String engines = Database.str(session, "reported_engines");
        List<String> list = new ArrayList<>();
        if (engines != null) {
            Json.parse(engines).forEach(e -> list.add(e.asText()));
        }
        String id = Database.str(session, "id");
        return new Standing(id, eligible, limits.path("gpu").asBoolean(false),
                limits.has("bandwidth_kbps") ? limits.path("bandwidth_kbps").asLong() : null, list, warm,
                score, decodeTokS);
    }

    /**
     * What one poll has read of its rivals, so that each is read once per poll, not once per candidate job: the
     * rival rows of each model (for candidate jobs without a rejected result, whose rivals depend on the model
     * alone), with their reputation counters, and the candidates' models.
     */
    static final class Rivals {
        /** Per model id: its served model, empty when it is not active (read once per poll). */
        private final Map<String, Optional<Models.Model>> models = new java.util.HashMap<>();
        private final Map<String, List<Rival>> byModel = new java.util.HashMap<>();
        /** Per model id: its queued jobs still in their preference window (read once per poll). */
        private final Map<String, Long> waiting = new java.util.HashMap<>();
    }

    /** {@code model}, just read as active, for {@link #model} to answer without reading it again in this poll. */
    static void known(Rivals seen, Models.Model model) {
        seen.models.put(model.id(), Optional.of(model));
    }

    /** The served model {@code id}, empty when it is not active: read once per poll. */
    Optional<Models.Model> model(DbExecute exec, Rivals seen, String id) {
        return seen.models.computeIfAbsent(id, k -> models.find(exec, k));
    }

    /** Whether {@code me} may lease the customer job {@code candidate} (a lease-candidates row) now. */
    boolean admits(DbExecute exec, Standing me, DbRow candidate, Instant now, Rivals seen) {
        if (!me.eligible()) {
            return false;
        }
        Models.Model model = model(exec, seen, Database.str(candidate, "model_id")).orElse(null);
        if (model == null || !consents(me, model)) {
            return false;
        }
        Instant queued = Database.instant(candidate, "created_at");
        if (settings.preferenceWaitMs() == 0
                || !Duration.between(queued, now).minusMillis(settings.preferenceWaitMs()).isNegative()) {
            return true;
        }
        // one better session per job waiting in its window: with fewer, this session takes one of them
        long waiting = Math.max(1, seen.waiting.computeIfAbsent(model.id(), id -> Database.count(exec,
                "cap-waiting-jobs", id, ts(now.minusMillis(settings.preferenceWaitMs())))));
        int better = 0;
        boolean meWarm = me.warm().contains(model.sha256());
        Rank mine = new Rank(meWarm, me.reputation(), me.decodeTokS());
        for (Rival rival : rivals(exec, me, model, candidate, now, seen)) {
            if (me.sessionId().equals(rival.standing().sessionId())) {
                continue; // a shared snapshot lists every idle session, the polling one too
            }
            if (!rival.eligible() || !consents(rival.standing(), model) || (meWarm && !rival.rank().warm())) {
                continue;
            }
            // BY_RANK puts a warm rival above a cold me first
            if (BY_RANK.compare(rival.rank(), mine) > 0) {
                if (++better >= waiting) {
                    return false; // enough better sessions for every waiting job: leave it to them for now
                }
            }
        }
        return true;
    }

    /** An idle session that could take a model's job: its standing and rank on that model, parsed once per read. */
    private record Rival(Standing standing, boolean eligible, Rank rank) {
    }

    /** The cap-rivals rows of {@code model} as rivals: each row's stored limits and engines parsed once. */
    private List<Rival> rivalsOf(List<DbRow> rows, Models.Model model) {
        List<Rival> out = new ArrayList<>(rows.size());
        for (DbRow r : rows) {
            Object raw = Database.raw(r, "decode_tok_s");
            boolean measured = raw != null;
            boolean eligible = Database.lng(r, "failed") == 0 && (measured || !settings.benchmarkEnabled());
            boolean warm = Database.lng(r, "warm") > 0;
            Standing standing = standing(r, true, warm ? Set.of(model.sha256()) : Set.of(),
                    measured ? ((Number) raw).doubleValue() : 0);
            out.add(new Rival(standing, eligible, new Rank(warm, standing.reputation(), standing.decodeTokS())));
        }
        return out;
    }

    /**
     * The live idle sessions that could take {@code candidate} instead of {@code me}. Without a rejected result for
     * the job (lease-candidates' {@code has_rejected}) they depend on the model alone, and are read once per poll.
     */
    private List<Rival> rivals(DbExecute exec, Standing me, Models.Model model, DbRow candidate, Instant now,
                               Rivals seen) {
        String jobId = Database.str(candidate, "id");
        if (Database.bool(candidate, "has_rejected")) {
            return queryRivals(exec, me, model, jobId, now);
        }
        if (settings.rivalSnapshotMs() == 0) {
            return seen.byModel.computeIfAbsent(model.sha256(), sha -> queryRivals(exec, me, model, jobId, now));
        }
        return seen.byModel.computeIfAbsent(model.sha256(), sha -> snapshots
                .computeIfAbsent(sha, k -> new RivalSnapshot()).rows(exec, model, jobId, now));
    }

    private List<Rival> queryRivals(DbExecute exec, Standing me, Models.Model model, String jobId, Instant now) {
        return rivalsOf(queryRivals(exec, me.sessionId(), model, jobId, now), model);
    }

    /** cap-rivals: the 50 live idle sessions seen last, but {@code excluded}, whose memory limit fits {@code model}. */
    private List<DbRow> queryRivals(DbExecute exec, String excluded, Models.Model model, String jobId, Instant now) {
        Instant liveSince = now.minusSeconds(settings.liveSeconds());
        return Database.list(exec, "cap-rivals", model.sha256(), excluded, ts(liveSince), model.sizeBytes(),
                ts(now), jobId);
    }

    /** What one read of a model's idle rivals returned, and when (the ledger's clock). */
    private record RivalRead(List<Rival> rows, Instant at) {
        boolean freshAt(Instant now, long maxAgeMs) {
            return !at.isAfter(now) && Duration.between(at, now).toMillis() < maxAgeMs;
        }
    }

    /**
     * One model's idle rivals as this instance last read them. A stale read is renewed by one poll while the polls
     * that come meanwhile use the previous read (not a thousand scans at once); only a first read is waited for.
     */
    private final class RivalSnapshot {
        private final ReentrantLock reading = new ReentrantLock();
        private volatile RivalRead last;

        List<Rival> rows(DbExecute exec, Models.Model model, String jobId, Instant now) {
            RivalRead read = last;
            if (read != null && read.freshAt(now, settings.rivalSnapshotMs())) {
                return read.rows();
            }
            if (read != null && !reading.tryLock()) {
                return read.rows(); // another poll renews it now
            }
            if (read == null) {
                reading.lock();
            }
            try {
                read = last;
                if (read == null || !read.freshAt(now, settings.rivalSnapshotMs())) {
                    // every session may be a rival ("" is no session's id); a job without a rejected result excludes
                    // none, so any such job's id reads the same rows
                    read = new RivalRead(rivalsOf(queryRivals(exec, "", model, jobId, now), model), now);
                    last = read;
                }
                return read.rows();
            } finally {
                reading.unlock();
            }
        }
    }

    /**
     * The visitor's consent and the node's engines allow the model: some engine the node may use runs every tensor
     * type of the file (WebGPU only when limits.gpu), and a model the node does not hold downloads within
     * {@code max-download-seconds} at its declared bandwidth_kbps. (The memory limit is checked by the lease query.)
     */
    boolean consents(Standing s, Models.Model model) {
        if (!s.warm().contains(model.sha256()) && s.bandwidthKbps() != null
                && model.sizeBytes() * 8.0 / 1000.0 / s.bandwidthKbps() > settings.maxDownloadSeconds()) {
            return false;
        }
        List<String> usable = s.engines().stream()
                .filter(e -> s.gpuAllowed() || !e.toLowerCase(Locale.ROOT).startsWith("webgpu")).toList();
        if (usable.isEmpty()) {
            return true; // none reported (or only the GPU, switched off): the node's pure-Java engine runs any type
        }
        Set<String> needed = tensorTypes(model);
        for (String e : usable) {
            List<String> runs = settings.typesOf(e);
            if (runs == null || runs.containsAll(needed)) {
                return true;
            }
        }
        return false;
    }

    private Set<String> tensorTypes(Models.Model model) {
        return tensorTypes.computeIfAbsent(model.sha256(), sha -> {
            try {
                return WeightType.tensorTypes(models.dir().resolve(model.fileName()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the tensor types of " + model.id(), e);
            }
        });
    }
}
