package io.earnidle.backend.capability;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.models.Models;
import io.earnidle.backend.nodes.RegistrationExtension;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;
import io.helidon.dbclient.DbTransaction;

import static io.earnidle.backend.db.Database.ts;

/**
 * Measured capability, timing plausibility and dispatch (issue 19, docs/trust.md). The hooks the node-facing
 * services call: at registration ({@link #registered}: reported engines, held model files and their challenges), at
 * each poll ({@link #beforeLease}: benchmark bookkeeping, then {@link #admits} per candidate job, {@link #leased}),
 * with each result ({@link #assess} before it is stored, {@link #recorded} after) and when a result passed
 * verification ({@link #verified}).
 */
public final class Capability implements RegistrationExtension {
    private static final Logger LOG = Logger.getLogger(Capability.class.getName());
    private static final int MAX_ENGINES = 8;
    private static final int MAX_HELD = 16;

    /** A session's standing at one poll (opaque to the caller). */
    public static final class Poll {
        private final Dispatch.Standing standing;
        /** The rivals read during this poll: each is read once, not once per candidate job. */
        private final Dispatch.Rivals rivals = new Dispatch.Rivals();

        private Poll(Dispatch.Standing standing) {
            this.standing = standing;
        }
    }

    /**
     * What the backend concluded about a result's timing: {@code implausible} is the reason it fails, null when it
     * is plausible; {@code tooFastForCapability} is the reason it is held for a new benchmark of its engine
     * ({@link HeldTimings}), null when it is not. A benchmark result, an implausible or a held one is always verified.
     */
    public record Assessment(boolean benchmark, TimingPlausibility.Timing timing, String implausible,
                             String tooFastForCapability) {
        public boolean mustVerify() {
            return benchmark || implausible != null || tooFastForCapability != null;
        }
    }

    private final CapabilitySettings settings;
    private final Database db;
    private final Benchmarks benchmarks;
    private final ModelPossession possession;
    private final Dispatch dispatch;
    private final HeldTimings held;

    public Capability(CapabilitySettings settings, Database db, Models models, Reputation reputation) {
        this.settings = settings;
        this.db = db;
        this.benchmarks = new Benchmarks(settings, db, models);
        this.possession = new ModelPossession(settings, models);
        this.dispatch = new Dispatch(settings, models, reputation);
        this.held = new HeldTimings(settings);
    }

    ModelPossession possession() {
        return possession;
    }

    Database db() {
        return db;
    }

    // ---------------------------------------------------------------- registration

    /**
     * Optional {@code engines} (names of the engines the node can run, a hint for eligibility) and
     * {@code models_held} (SHA-256 of the model files it holds): each held file the backend serves gets a challenge,
     * answered at {@code POST /api/nodes/me/models}.
     */
    @Override
    public void registered(DbTransaction tx, String sessionId, ObjectNode body, ObjectNode response, Instant now) {
        List<String> engines = strings(body, "engines", MAX_ENGINES, "[A-Za-z0-9._+-]{1,64}");
        if (engines != null) {
            tx.namedUpdate("cap-set-engines", Json.write(engines), sessionId);
        }
        List<String> held = strings(body, "models_held", MAX_HELD, "[0-9a-fA-F]{64}");
        if (held != null) {
            ArrayNode challenges = possession.challenge(tx, sessionId,
                    held.stream().map(h -> h.toLowerCase(Locale.ROOT)).distinct().toList(), now);
            response.set("model_challenges", challenges);
        }
    }

    private static List<String> strings(ObjectNode body, String name, int max, String pattern) {
        if (!Fields.present(body, name)) {
            return null;
        }
        JsonNode a = body.get(name);
        if (!a.isArray() || a.size() > max) {
            throw Problem.validation(name + " must be an array of at most " + max + " strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : a) {
            if (!e.isTextual() || !e.textValue().matches(pattern)) {
                throw Problem.validation(name + " has an invalid entry: " + e);
            }
            out.add(e.textValue());
        }
        return out;
    }

    // ---------------------------------------------------------------- poll

    /**
     * Before a session's lease query: with benchmarks on, a failed benchmark bars the session, and a session
     * without a usable capability (none measured, or one made stale by {@link #verified}) gets a benchmark job
     * (leased before anything else). The poll's held files are applied before, by {@link #held}.
     */
    public Poll beforeLease(String sessionId, Instant now) {
        DbExecute exec = db.execute();
        boolean eligible = true;
        double decode = 0;
        List<DbRow> caps = List.of();
        Optional<Models.Model> benchModel = settings.benchmarkEnabled() ? benchmarks.model() : Optional.empty();
        if (benchModel.isPresent()) {
            failRejectedBenchmarks(exec, sessionId, benchModel.get(), now);
            caps = Database.list(exec, "cap-capabilities", sessionId);
            boolean failed = caps.stream().anyMatch(c -> "failed".equals(Database.str(c, "status")));
            boolean measured = caps.stream().anyMatch(c -> "measured".equals(Database.str(c, "status")));
            boolean stale = caps.stream().anyMatch(c -> "stale".equals(Database.str(c, "status")));
            if (!failed && (!measured || stale) && Database.count(exec, "cap-open-benchmarks", sessionId) == 0) {
                String job = benchmarks.create(sessionId, benchModel.get(), now);
                LOG.fine(() -> "session " + sessionId + ": benchmark job " + job);
            }
            eligible = !failed && measured;
        } else {
            caps = Database.list(exec, "cap-capabilities", sessionId);
        }
        for (DbRow c : caps) {
            if ("measured".equals(Database.str(c, "status"))) {
                decode = Math.max(decode, Database.dbl(c, "decode_tok_s"));
            }
        }
        DbRow session = Database.get(exec, "cap-session", sessionId).orElseThrow();
        Poll poll = new Poll(dispatch.standing(session, eligible, possession.warm(exec, sessionId), decode));
        benchModel.ifPresent(m -> Dispatch.known(poll.rivals, m)); // most jobs run the benchmark model
        return poll;
    }

    /**
     * The files the polling session says it holds ({@code held}, the poll's {@code held} query parameter; null when
     * not sent): a file proved before and no longer held is dropped from its warm files.
     */
    public void held(String sessionId, String held, Instant now) {
        if (held != null) {
            Set<String> list = new HashSet<>();
            for (String h : held.split(",")) {
                if (h.matches("[0-9a-fA-F]{64}")) {
                    list.add(h.toLowerCase(Locale.ROOT));
                }
            }
            possession.held(db.execute(), sessionId, list, now);
        }
    }

    /**
     * Whether {@link #beforeLease}'s benchmark bookkeeping would write nothing for a session, read from its
     * {@code poll-idle-check} row: benchmarks are off (or there is no benchmark model), or the session has a measured
     * capability, none failed or stale, and no rejected result of one of its benchmarks (which fails a capability).
     */
    public boolean settled(DbRow idleCheck) {
        if (!settings.benchmarkEnabled()) {
            return true;
        }
        boolean benchmarked = Database.lng(idleCheck, "measured_capabilities") > 0
                && Database.lng(idleCheck, "other_capabilities") == 0
                && !Database.bool(idleCheck, "rejected_benchmark");
        return benchmarked || benchmarks.model().isEmpty(); // the model is read only when the row does not settle it
    }

    /** A benchmark whose result was rejected: that engine's capability fails (no customer jobs), the job ends. */
    private void failRejectedBenchmarks(DbExecute exec, String sessionId, Models.Model model, Instant now) {
        for (DbRow r : Database.list(exec, "cap-rejected-benchmarks", sessionId, sessionId)) {
            String engine = Database.str(r, "engine");
            Optional<DbRow> cap = Database.get(exec, "cap-capability", sessionId, engine);
            if (cap.isEmpty()) {
                put(exec, sessionId, engine, "failed", model.id(), 0, 0, Database.str(r, "id"), now);
            } else {
                exec.namedUpdate("cap-fail-capability", sessionId, engine);
            }
            exec.namedUpdate("cap-fail-benchmark-job", Database.str(r, "id"));
        }
    }

    /**
     * Whether the polling session may lease {@code candidate} (a lease-candidates row) now, read through the lease's
     * transaction {@code tx} (a second connection taken while the transaction holds one can exhaust the pool).
     */
    public boolean admits(DbExecute tx, Poll poll, DbRow candidate, Instant now) {
        if (Database.str(candidate, "benchmark_for") != null) {
            return true; // its own benchmark (the lease query hands out no other session's)
        }
        return dispatch.admits(tx, poll.standing, candidate, now, poll.rivals);
    }

    /** The served model {@code id} (empty when it is not active), read once per poll however many jobs use it. */
    public Optional<Models.Model> model(DbExecute tx, Poll poll, String id) {
        return dispatch.model(tx, poll.rivals, id);
    }

    /**
     * A lease was taken, in the lease's transaction {@code tx} (which holds the session's row lock): when it began is
     * the start of the wall time its result is checked against.
     */
    public void leased(DbExecute tx, String leaseId, String jobId, String sessionId, Instant now) {
        tx.namedInsert("cap-insert-lease-observation", leaseId, jobId, sessionId, ts(now));
    }

    // ---------------------------------------------------------------- verification

    /**
     * A result of {@code sessionId} for {@code job} (its locked row) passed verification, in the verifier's
     * transaction {@code tx}: verified work on the benchmark model far faster than the engine's measured capability
     * (since it was measured) makes that capability stale, so the session's next poll leases a new benchmark. Checked
     * here, once per verified result, rather than at every poll over the session's recent verified results.
     */
    public void verified(DbExecute tx, DbRow job, String sessionId) {
        if (!settings.benchmarkEnabled() || Database.str(job, "benchmark_for") != null) {
            return;
        }
        Optional<Models.Model> model = benchmarks.model();
        if (model.isEmpty() || !model.get().id().equals(Database.str(job, "model_id"))) {
            return;
        }
        Optional<DbRow> result = Database.get(tx, "cap-result", Database.str(job, "id"), sessionId);
        if (result.isEmpty()) {
            return;
        }
        String engine = Database.str(result.get(), "engine");
        Optional<DbRow> cap = Database.get(tx, "cap-capability", sessionId, engine);
        if (cap.isEmpty() || !"measured".equals(Database.str(cap.get(), "status"))
                || !model.get().id().equals(Database.str(cap.get(), "model_id"))
                || Database.instant(result.get(), "created_at").isBefore(Database.instant(cap.get(), "measured_at"))) {
            return;
        }
        TimingPlausibility.Measured m = new TimingPlausibility.Measured(Database.dbl(cap.get(), "prefill_tok_s"),
                Database.dbl(cap.get(), "decode_tok_s"));
        TimingPlausibility.Timing t = new TimingPlausibility.Timing(-1,
                (int) Database.lng(result.get(), "token_count"), Database.dbl(result.get(), "prefill_ms"),
                Database.dbl(result.get(), "decode_ms"));
        if (TimingPlausibility.farFaster(settings, t, m)) {
            tx.namedUpdate("cap-mark-stale", sessionId, engine);
            LOG.info(() -> "session " + sessionId + ": verified work on " + engine + " far faster than its "
                    + "benchmark, benchmarking again");
        }
    }

    // ---------------------------------------------------------------- result

    /** The timing rules for a result of {@code job} (its locked row) on {@code model}, inside the result's transaction. */
    public Assessment assess(DbExecute tx, String sessionId, DbRow job, Models.Model model, String leaseId,
                             String engine, int tokenCount, double prefillMs, double decodeMs, Instant now) {
        boolean benchmark = Database.str(job, "benchmark_for") != null;
        TimingPlausibility.Timing t = new TimingPlausibility.Timing(promptTokens(model, job), tokenCount, prefillMs,
                decodeMs);
        Optional<String> why = TimingPlausibility.physics(settings, t, model.sizeBytes());
        Optional<String> tooFast = Optional.empty();
        if (why.isEmpty() && benchmark) {
            Optional<DbRow> lease = Database.get(tx, "cap-lease-observation", leaseId);
            if (lease.isPresent()) {
                double wallMs = Duration.between(Database.instant(lease.get(), "leased_at"), now).toNanos() / 1e6;
                why = TimingPlausibility.againstWallTime(settings, t, wallMs);
            }
        } else if (why.isEmpty() && model.id().equals(settings.benchmarkModel())) {
            Optional<DbRow> cap = Database.get(tx, "cap-capability", sessionId, engine);
            if (cap.isPresent() && "measured".equals(Database.str(cap.get(), "status"))) {
                // held for a new benchmark, not failed: the old one may have run on a busy machine (HeldTimings)
                tooFast = TimingPlausibility.againstCapability(settings, t, new TimingPlausibility.Measured(
                        Database.dbl(cap.get(), "prefill_tok_s"), Database.dbl(cap.get(), "decode_tok_s")));
            }
        }
        return new Assessment(benchmark, t, why.orElse(null), tooFast.orElse(null));
    }

    /**
     * The prompt's token count for {@code job} on {@code model} (a row with the job's {@code prompt},
     * {@code prompt_ids_json}, {@code add_bos} and {@code benchmark_for}): exact for token ids and on the benchmark
     * model (its tokenizer, loaded once); for a text prompt on another model, whose tokenizer is not loaded for a
     * result, the fewest it can have ({@link #fewestPromptTokens}).
     */
    private int promptTokens(Models.Model model, DbRow job) {
        String promptIds = Database.str(job, "prompt_ids_json");
        if (promptIds != null) {
            return Json.parse(promptIds).size();
        }
        return Database.str(job, "benchmark_for") != null || model.id().equals(settings.benchmarkModel())
                ? benchmarks.promptTokens(model, job) : fewestPromptTokens(job);
    }

    /**
     * The fewest tokens a text prompt can have: the BOS token when it is added, and at least one for any text. A
     * prefill speed from it is a lower bound, enough for the physical ceilings, which a reported 0 ms then fails for a
     * 1-token answer too (it has no decode speed); -1 (unknown) for an empty prompt without BOS.
     */
    private static int fewestPromptTokens(DbRow job) {
        String prompt = Database.str(job, "prompt");
        int fewest = (Database.bool(job, "add_bos") ? 1 : 0) + (prompt == null || prompt.isEmpty() ? 0 : 1);
        return fewest > 0 ? fewest : -1;
    }

    /**
     * After the result row is written: an implausible result is marked (the verifier fails it without running it), one
     * too fast for its engine's capability is held for a new benchmark; the session holds the model file; a benchmark
     * result becomes the engine's capability (failed when implausible) and settles the results held for it; a
     * customer result from an engine never measured asks for a benchmark.
     */
    public void recorded(DbExecute tx, String sessionId, DbRow job, Models.Model model, String engine,
                         Assessment a, Instant now) {
        String jobId = Database.str(job, "id");
        if (a.implausible() != null) {
            tx.namedUpdate("cap-set-implausible", a.implausible(), jobId);
        } else if (a.tooFastForCapability() != null) {
            held.hold(tx, sessionId, engine, jobId, a.tooFastForCapability(), now);
        }
        possession.ran(tx, sessionId, model.sha256(), now);
        if (a.benchmark()) {
            TimingPlausibility.Measured m = new TimingPlausibility.Measured(finite(a.timing().prefillTokS()),
                    finite(a.timing().decodeTokS()));
            put(tx, sessionId, engine, a.implausible() == null ? "measured" : "failed", model.id(),
                    m.prefillTokS(), m.decodeTokS(), jobId, now);
            // the results held for it are on this model, the benchmark model: their prompts read as its own are
            held.benchmarked(tx, sessionId, engine, a.implausible() == null ? m : null,
                    row -> promptTokens(model, row));
        } else if (settings.benchmarkEnabled() && Database.get(tx, "cap-capability", sessionId, engine).isEmpty()) {
            put(tx, sessionId, engine, "stale", model.id(), 0, 0, null, now);
        }
    }

    /** A measured speed, 0 when there is none (a 1-token benchmark has no decode speed). */
    private static double finite(double tokS) {
        return Double.isFinite(tokS) ? tokS : 0;
    }

    private static void put(DbExecute exec, String sessionId, String engine, String status, String modelId,
                            double prefill, double decode, String jobId, Instant now) {
        if (exec.namedUpdate("cap-update-capability", status, modelId, prefill, decode, jobId, ts(now), sessionId,
                engine) == 0) {
            exec.namedInsert("cap-insert-capability", sessionId, engine, status, modelId, prefill, decode, jobId,
                    ts(now));
        }
    }

    /** The session's capability as {@code GET /api/nodes/me/capability} shows it. */
    ObjectNode describe(String sessionId) {
        DbExecute exec = db.execute();
        ObjectNode out = Json.object();
        ArrayNode engines = out.putArray("engines");
        for (DbRow c : Database.list(exec, "cap-capabilities", sessionId)) {
            ObjectNode e = engines.addObject();
            e.put("engine", Database.str(c, "engine"));
            e.put("status", Database.str(c, "status"));
            e.put("model", Database.str(c, "model_id"));
            e.put("prefill_tok_s", Database.dbl(c, "prefill_tok_s"));
            e.put("decode_tok_s", Database.dbl(c, "decode_tok_s"));
            e.put("measured_at", Database.instant(c, "measured_at").toString());
        }
        ArrayNode warm = out.putArray("warm_models");
        possession.warm(exec, sessionId).stream().sorted().forEach(warm::add);
        return out;
    }
}
