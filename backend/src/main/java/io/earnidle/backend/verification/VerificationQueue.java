package io.earnidle.backend.verification;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.db.StoredText;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.jobs.JobJson;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.models.Models;
import io.earnidle.backend.receipts.Receipts;
import io.earnidle.backend.verification.kernels.VerifierKernels;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.loop.JobSpec;
import io.helidon.dbclient.DbRow;
import io.helidon.dbclient.DbTransaction;

import static io.earnidle.backend.db.Database.ts;

/**
 * The verification queue: jobs in status {@code verifying} with verification {@code pending}, taken off the request
 * path by {@link TrustSettings#verifierThreads} worker threads (woken by each accepted result, and every
 * {@link #RECHECK_MS} ms for results queued before a restart or by another backend instance). Each result is checked
 * by {@link ResultVerifier}; the verdict is applied in one transaction: passed → {@code completed} (its held credits
 * settle after the window); failed → the payout is reversed, the result moved to {@code rejected_results}, and the job
 * re-queued for another node, or {@code failed} after {@link TrustSettings#maxAttempts} rejected results.
 */
public final class VerificationQueue implements AutoCloseable {
    static final long RECHECK_MS = 1000;
    private static final Logger LOG = Logger.getLogger(VerificationQueue.class.getName());
    private static final int BATCH = 16;

    private record LoadedModel(String sha256, LlamaModel model, String weightType) {
    }

    /**
     * What the trust layer adds around a verification (docs/trust.md: reputation, canaries, redundant runs). The
     * hooks {@link #passed} and {@link #failed} run inside the verdict's transaction.
     */
    public interface Checks {
        Checks NONE = new Checks() {
        };

        /** Runs before each round of {@link #verifyPending}. */
        default void beforeRound(Instant now) {
        }

        /**
         * A verdict without re-running the job (a canary's known answer, a replica's matching output), or empty to
         * verify it teacher-forced.
         */
        default Optional<ResultVerifier.Verdict> decide(DbRow job, DbRow result, int[] claimedIds) {
            return Optional.empty();
        }

        /** A result of {@code sessionId} for {@code job} passed. */
        default void passed(DbTransaction tx, DbRow job, String sessionId) {
        }

        /** A result of {@code sessionId} for {@code job} failed: its payout is reversed, the job re-queued. */
        default void failed(DbTransaction tx, DbRow job, String sessionId) {
        }
    }

    private final TrustSettings trust;
    private final Database db;
    private final Ledger ledger;
    private final Models models;
    private final Receipts receipts; // each verdict and reversal gets a signed receipt (docs/receipts.md)
    private final Map<String, LoadedModel> loaded = new ConcurrentHashMap<>();
    private final Set<String> inProgress = ConcurrentHashMap.newKeySet();
    private final List<Thread> workers = new ArrayList<>();
    private final Object signal = new Object();
    private long wakeups;
    private volatile boolean closed;
    private volatile Checks checks = Checks.NONE;
    private volatile BooleanSupplier leader = () -> true;

    public VerificationQueue(TrustSettings trust, Database db, Ledger ledger, Models models, Receipts receipts) {
        this.receipts = receipts;
        this.trust = trust;
        this.db = db;
        this.ledger = ledger;
        this.models = models;
    }

    /** Sets the trust layer's hooks (before {@link #start}). */
    public void checks(Checks hooks) {
        this.checks = hooks;
    }

    /**
     * In cluster mode: the worker threads verify only while this instance leads verification (before {@link #start};
     * docs/operations.md "Cluster mode").
     */
    public void leader(BooleanSupplier leads) {
        this.leader = leads;
    }

    /** Starts the worker threads (none when {@code verifier-threads} is 0: then only {@link #verifyPending} runs). */
    public void start() {
        for (int i = 0; i < trust.verifierThreads(); i++) {
            Thread t = Thread.ofPlatform().daemon().name("verifier-" + i).start(this::work);
            workers.add(t);
        }
    }

    /** Whether the next result is verified ({@code sample-rate}); a result not sampled is {@code skipped}. */
    public boolean sample() {
        double rate = trust.sampleRate();
        return rate >= 1 || (rate > 0 && ThreadLocalRandom.current().nextDouble() < rate);
    }

    /** A result was queued: wakes the workers. */
    public void wake() {
        synchronized (signal) {
            wakeups++;
            signal.notifyAll();
        }
    }

    private void work() {
        long seen = -1;
        while (!closed) {
            try {
                if (leader.getAsBoolean()) {
                    verifyPending();
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "verification round failed", e);
            }
            synchronized (signal) {
                if (seen == wakeups && !closed) {
                    try {
                        signal.wait(RECHECK_MS);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                seen = wakeups;
            }
        }
    }

    /**
     * Verifies every pending result on the calling thread (results another thread is verifying are left to it);
     * returns how many verdicts this call applied.
     */
    public int verifyPending() {
        int applied = 0;
        checks.beforeRound(ledger.now());
        while (!closed) {
            List<DbRow> batch = Database.list(db.execute(), "verification-queue", ts(ledger.now()), BATCH);
            int decided = 0;
            for (DbRow row : batch) {
                String jobId = Database.str(row, "id");
                if (!inProgress.add(jobId)) {
                    continue;
                }
                try {
                    if (verify(jobId)) {
                        decided++;
                    }
                } finally {
                    inProgress.remove(jobId);
                }
            }
            applied += decided;
            if (decided == 0) {
                // nothing taken, or nothing this round can decide (the same rows would come back): a later round
                return applied;
            }
        }
        return applied;
    }

    /** Verifies the current result of {@code jobId} and applies the verdict; false when there was nothing to do. */
    private boolean verify(String jobId) {
        Optional<DbRow> jobRow = Database.get(db.execute(), "job-by-id", jobId);
        Optional<DbRow> resultRow = Database.get(db.execute(), "result-by-job", jobId);
        if (jobRow.isEmpty() || resultRow.isEmpty() || !"pending".equals(Database.str(jobRow.get(), "verification"))) {
            return false;
        }
        DbRow job = jobRow.get();
        DbRow result = resultRow.get();
        String leaseId = Database.str(result, "lease_id");
        String implausible = Database.str(result, "implausible_timing"); // capability: fails without a re-run
        String held = Database.str(result, "timing_recheck"); // capability.HeldTimings: waits for a new benchmark
        if (implausible == null && held != null) {
            if (Database.instant(result, "timing_recheck_until").isAfter(ledger.now())) {
                return false; // its engine's new benchmark may still settle it
            }
            implausible = held + "; its engine was not benchmarked again in time";
        }
        if (implausible != null) {
            return apply(jobId, Database.lng(job, "version"), leaseId, new ResultVerifier.Verdict(false, implausible,
                    0, 0), "timing");
        }
        ResultVerifier.Verdict verdict;
        String method;
        Optional<Models.Model> model = models.find(db.execute(), Database.str(job, "model_id"));
        if (model.isEmpty()) {
            return false; // retired while queued: left pending (no money moves) until it is served again
        }
        LoadedModel m = load(model.get());
        try {
            GenerationRequest request = JobSpec.parse(Json.write(JobJson.lease(job, model.get(), leaseId,
                    Database.instant(job, "created_at")))).toRequest();
            int[] ids = Json.MAPPER.readValue(Database.str(result, "token_ids_json"), int[].class);
            Optional<ResultVerifier.Verdict> decided = checks.decide(job, result, ids);
            verdict = decided.isPresent() ? decided.get() : ResultVerifier.verify(m.model(), request, ids,
                    StoredText.read(result, "result_text"), trust.margin(m.weightType()));
            method = decided.isEmpty() ? "teacher-forced"
                    : "canary".equals(Database.str(job, "check_kind")) ? "canary" : "redundant";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return apply(jobId, Database.lng(job, "version"), leaseId, verdict, method);
    }

    private boolean apply(String jobId, long version, String leaseId, ResultVerifier.Verdict v, String method) {
        return db.inTransaction(tx -> {
            DbRow job = Database.get(tx, "lock-job", jobId).orElseThrow();
            Optional<DbRow> result = Database.get(tx, "result-by-job", jobId);
            if (Database.lng(job, "version") != version || result.isEmpty()
                    || !leaseId.equals(Database.str(result.get(), "lease_id"))) {
                return false; // another worker or instance applied a verdict first
            }
            Instant now = ledger.now();
            String sessionId = Database.str(result.get(), "session_id");
            if (v.passed()) {
                String detail = v.reason() != null ? v.reason() + " (" + v.tokensChecked() + " tokens)"
                        : v.tokensChecked() + " tokens verified, " + v.withinMargin() + " within the margin";
                if (tx.namedUpdate("verification-passed", detail, ts(now), jobId, version) != 1) {
                    return false;
                }
                receipts.verification(tx, job, result.get(), true, method); // locks the chain before any account
                checks.passed(tx, job, sessionId);
                return true;
            }
            reject(tx, job, result.get(), v.reason(), method);
            checks.failed(tx, job, sessionId);
            return true;
        });
    }

    /**
     * Rejects the current result of {@code job} (locked by the caller, status {@code verifying}): reverses its
     * payout, moves it to {@code rejected_results} with {@code reason} and re-queues the job, or fails it after
     * {@code max-attempts} rejected results. {@code method} is how the verdict was reached, for its receipt and
     * that of the reversal. Returns the job's new status.
     */
    public String reject(DbTransaction tx, DbRow job, DbRow result, String why, String method) {
        String jobId = Database.str(job, "id");
        Instant now = ledger.now();
        String reason = why.length() > 1000 ? why.substring(0, 1000) : why;
        long credit = Receipts.nodeCredit(tx, result);
        receipts.verification(tx, job, result, false, method); // locks the chain before the ledger's accounts
        ledger.reverse(tx, "job_payout_reversal", jobId, Database.str(result, "payout_tx_id"));
        receipts.reversal(tx, job, result, credit, "forfeited".equals(method) ? "forfeited" : "verification-failed",
                "failed");
        tx.namedInsert("insert-rejected-result", Ids.newId("rej_"), reason, ts(now), jobId);
        tx.namedDelete("delete-result", jobId);
        // failed attempts: rejected results and leases that timed out or were reported failed (leases package)
        long failedAttempts = Database.count(tx, "failed-attempt-count", jobId);
        String status = failedAttempts >= trust.maxAttempts() ? "failed" : "queued";
        if (tx.namedUpdate("verification-failed", status, reason, jobId, Database.lng(job, "version")) != 1) {
            throw new IllegalStateException("job " + jobId + " changed under its row lock");
        }
        LOG.info(() -> "job " + jobId + ": result rejected (" + reason + "), job " + status);
        return status;
    }

    public Receipts receipts() {
        return receipts;
    }

    /** The engine of {@code model} (loaded once per file version), e.g. to compute a canary's known answer. */
    public LlamaModel engine(Models.Model model) {
        return load(model).model();
    }

    /** The model's engine, loaded once per file version (sha256). */
    private LoadedModel load(Models.Model model) {
        LoadedModel have = loaded.get(model.id());
        if (have != null && have.sha256().equals(model.sha256())) {
            return have;
        }
        Path file = models.dir().resolve(model.fileName());
        try {
            LoadedModel fresh = new LoadedModel(model.sha256(), LlamaModel.load(file, VerifierKernels.best()),
                    WeightType.of(file));
            loaded.put(model.id(), fresh);
            return fresh;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load model " + model.id() + " for verification", e);
        }
    }

    @Override
    public void close() {
        closed = true;
        wake();
        for (Thread t : workers) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
