package io.earnidle.node.loop;

import io.earnidle.node.llama.GenerationResult;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The backend as the node sees it: registration (with a wallet token when there is one), polling for a job,
 * linking the session to a wallet, refreshing the earnings counters, lease heartbeats and failure reports
 * ({@link LeaseKeeper}), and submitting a result (the same Idempotency-Key and body on every retry). Holds the
 * session and the counters the status reports; what to do next is the loop's.
 */
final class BackendApi {
    /** The end of a registration: {@code error} null on success. */
    interface Registered {
        void done(String error, boolean walletRefused);
    }

    /** The end of a result submission: {@code error} null when it was accepted. */
    interface Submitted {
        void done(String error);
    }

    /** Before each submission attempt ({@code attempt} from 1). */
    interface Attempt {
        void sending(int attempt);
    }

    private final NodeHost host;
    private final String apiBase;
    private final String placementId;
    private final Object capabilities;
    private String walletToken;
    private String sessionId;
    private String sessionToken;
    /** Whether the session is linked to a wallet (registered with one, or linked later). */
    private boolean walletLinked;
    private String linkError;
    private long pollIntervalMs = 1000;
    private long jobsCompleted;
    private long balance;
    private long pending;
    private long lastPayout;
    /** The identity's public reputation (docs/trust.md), from GET /api/nodes/me; tier null until it is known. */
    private long reputationScore;
    private String tier;
    private double lastPendingRefresh = Double.NEGATIVE_INFINITY;
    /** The registration's model_challenges, until they are answered. */
    private Object modelChallenges;

    BackendApi(NodeHost host, String apiBase, String placementId, Object capabilities, String walletToken) {
        this.host = host;
        this.apiBase = apiBase;
        this.placementId = placementId;
        this.capabilities = capabilities == null ? new LinkedHashMap<String, Object>() : capabilities;
        this.walletToken = walletToken == null || walletToken.isEmpty() ? null : walletToken;
    }

    String apiBase() {
        return apiBase;
    }

    String sessionId() {
        return sessionId;
    }

    boolean registered() {
        return sessionToken != null;
    }

    void forgetSession() {
        sessionToken = null;
        sessionId = null;
    }

    /** The poll interval the backend asked for at registration (ms). */
    long pollIntervalMs() {
        return pollIntervalMs;
    }

    boolean hasWalletToken() {
        return walletToken != null;
    }

    long jobsCompleted() {
        return jobsCompleted;
    }

    /** The earnings and wallet fields of the status, in its order. */
    void putCounters(Map<String, Object> m) {
        m.put("jobs_completed", jobsCompleted);
        m.put("balance_micro_usdc", balance);
        m.put("pending_micro_usdc", pending);
        m.put("last_payout_micro_usdc", lastPayout);
        if (tier != null) {
            m.put("reputation_score", reputationScore);
            m.put("tier", tier);
        }
    }

    boolean walletLinked() {
        return walletLinked;
    }

    String linkError() {
        return linkError;
    }

    /**
     * {@code POST /api/nodes}: a refused wallet token is dropped (register again without it, link later). The answer
     * counts only while the epoch {@code ep} is current.
     */
    void register(Object limitsRaw, boolean gpuAllowed, List<String> modelsHeld, Epoch epoch, int ep, Registered cb) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("placement_id", placementId);
        body.put("capabilities", capabilities);
        body.put("limits", limitsRaw);
        // for dispatch (docs/trust.md): the engines it can run and the model files it holds (the backend checks)
        body.put("engines", ModelReports.engines(capabilities, gpuAllowed, host.engine()));
        body.put("models_held", modelsHeld);
        boolean withWallet = walletToken != null;
        if (withWallet) {
            body.put("wallet_token", walletToken);
        }
        host.request("POST", apiBase + "/api/nodes", null, null, Json.write(body), (code, text) -> {
            if (!epoch.is(ep)) {
                return;
            }
            try {
                if (code == 401 && withWallet) {
                    walletToken = null;
                    throw new IllegalStateException("the wallet token was refused (unknown or expired); registering"
                            + " without a wallet, the session can be linked later");
                }
                if (code != 201 && code != 200) {
                    throw new IllegalStateException("registration failed: " + NodeLoop.describe(code, text));
                }
                Map<String, Object> r = Json.obj(Json.parse(text), "registration response");
                modelChallenges = r.get("model_challenges");
                sessionId = Json.str(r, "session_id");
                sessionToken = Json.str(r, "session_token");
                walletLinked = withWallet && walletToken != null;
                long interval = r.get("poll_interval_ms") == null ? 1000 : Json.integer(r, "poll_interval_ms");
                pollIntervalMs = Math.max(50, Math.min(interval, NodeLoop.MAX_BACKOFF_MS));
            } catch (RuntimeException e) {
                cb.done(NodeLoop.message(e), walletToken == null && withWallet);
                return;
            }
            cb.done(null, false);
        });
    }

    /**
     * Remembers {@code token} and, once registered and not linked yet, links the session to its wallet
     * ({@code POST /api/wallets/sessions}); {@code linked} gets the status message (null when there was nothing to do).
     */
    void linkWallet(String token, Consumer<String> linked) {
        walletToken = token;
        if (sessionToken == null || walletLinked) {
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("session_token", sessionToken);
        host.request("POST", apiBase + "/api/wallets/sessions", token, null, Json.write(body), (code, text) -> {
            if (code == 200) {
                walletLinked = true;
                linkError = null;
                linked.accept("session linked to the wallet");
            } else {
                linkError = "linking the session to the wallet failed: " + NodeLoop.describe(code, text);
                linked.accept(linkError);
            }
        });
    }

    /** After registration: a wallet verified while the registration was in flight is linked now. */
    void linkPendingWallet(Consumer<String> linked) {
        if (!walletLinked && walletToken != null) {
            linkWallet(walletToken, linked);
        }
    }

    /** What a poll found (told only while the poll's epoch is current). */
    interface Polled {
        /** No job now (204). */
        void none();

        /** The session is no longer valid (401): it is forgotten, register again. */
        void unauthorized();

        /** Polling failed, or the job handed out is invalid. */
        void failed(String error);

        void job(JobSpec job);
    }

    /** Answers the registration's model-possession challenges ({@link ModelReports#answer}), once. */
    void proveModels(ModelReports reports, Consumer<String> status) {
        Object challenges = modelChallenges;
        modelChallenges = null;
        reports.answer(challenges, sessionToken, status);
    }

    /** {@code GET /api/inference/job} with {@code query} (the held model files, {@link ModelReports#pollQuery}). */
    void pollJob(String query, Epoch epoch, int ep, Polled cb) {
        host.request("GET", apiBase + "/api/inference/job" + query, sessionToken, null, null, (code, text) -> {
            if (!epoch.is(ep)) {
                return;
            }
            if (code == 204) {
                cb.none();
                return;
            }
            if (code == 401) {
                forgetSession();
                cb.unauthorized();
                return;
            }
            if (code == 429) {
                cb.none(); // the session holds all the leases it may (a job it dropped): poll again later
                return;
            }
            if (code != 200) {
                cb.failed("polling failed: " + NodeLoop.describe(code, text));
                return;
            }
            JobSpec j;
            try {
                j = JobSpec.parse(text);
            } catch (RuntimeException e) {
                cb.failed("invalid job: " + NodeLoop.message(e));
                return;
            }
            cb.job(j);
        });
    }

    /**
     * {@code GET /api/nodes/me} when some earnings are pending and the last refresh is older than
     * {@link NodeLoop#REFRESH_PENDING_EVERY_MS}; {@code changed} runs once the counters are updated.
     */
    void refreshPendingIfDue(Runnable changed) {
        double now = host.nowMs();
        if (pending <= 0 || now - lastPendingRefresh < NodeLoop.REFRESH_PENDING_EVERY_MS) {
            return;
        }
        lastPendingRefresh = now;
        host.request("GET", apiBase + "/api/nodes/me", sessionToken, null, null, (code, text) -> {
            if (code != 200) {
                return;
            }
            try {
                Map<String, Object> r = Json.obj(Json.parse(text), "counters");
                balance = Json.integer(r, "balance_micro_usdc");
                pending = r.get("pending_micro_usdc") == null ? 0 : Json.integer(r, "pending_micro_usdc");
                if (r.get("jobs_completed") != null) {
                    jobsCompleted = Math.max(jobsCompleted, Json.integer(r, "jobs_completed"));
                }
                if (r.get("tier") != null && r.get("reputation_score") != null) {
                    reputationScore = Json.integer(r, "reputation_score");
                    tier = Json.str(r, "tier");
                }
            } catch (RuntimeException e) {
                return;
            }
            changed.run();
        });
    }

    /** {@code POST /api/inference/progress}: a heartbeat of {@code j}'s lease with the output so far. */
    void progress(JobSpec j, int[] tokenIds, String text, NodeHost.HttpCallback cb) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("job_id", j.jobId());
        body.put("lease_id", j.leaseId());
        body.put("tokens_done", tokenIds.length);
        body.put("token_ids", tokenIds);
        body.put("text", text);
        host.request("POST", apiBase + "/api/inference/progress", sessionToken, null, Json.write(body), cb);
    }

    /** {@code POST /api/inference/failure}: gives {@code j}'s lease up; the answer does not matter to the node. */
    void reportFailure(JobSpec j, String reason, String detail) {
        if (sessionToken == null) {
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("job_id", j.jobId());
        body.put("lease_id", j.leaseId());
        body.put("reason", reason);
        if (detail != null && !detail.isEmpty()) {
            body.put("detail", detail.length() > 1000 ? detail.substring(0, 1000) : detail);
        }
        host.request("POST", apiBase + "/api/inference/failure", sessionToken, null, Json.write(body),
                (code, text) -> { });
    }

    /** Submits {@code result} of {@code j}, computed on {@code engineName}, as {@link #submit} does. */
    void submitResult(JobSpec j, GenerationResult result, String engineName, String key, Epoch epoch, int ep,
                      BooleanSupplier mayRetry, LongSupplier delayMs, Attempt sending, Submitted cb) {
        Map<String, Object> timing = new LinkedHashMap<>();
        timing.put("prefill_ms", result.prefillMs());
        timing.put("decode_ms", result.decodeMs());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("job_id", j.jobId());
        body.put("lease_id", j.leaseId());
        body.put("text", result.text());
        body.put("token_ids", result.tokenIds());
        body.put("token_count", result.tokenIds().length);
        body.put("engine", engineName);
        body.put("timing", timing);
        submit(j, Json.write(body), key, 1, epoch, ep, mayRetry, delayMs, sending, cb);
    }

    /**
     * {@code POST /api/inference/result} with {@code key}, retried (same key and body) after network errors, 5xx
     * and 429 up to {@link NodeLoop#MAX_SUBMIT_ATTEMPTS} while {@code mayRetry} holds, {@code delayMs} apart; an
     * accepted result updates the counters. Callbacks come only while the epoch {@code ep} is current.
     */
    private void submit(JobSpec j, String body, String key, int attempt, Epoch epoch, int ep,
                        BooleanSupplier mayRetry, LongSupplier delayMs, Attempt sending, Submitted cb) {
        sending.sending(attempt);
        host.request("POST", apiBase + "/api/inference/result", sessionToken, key, body, (code, text) -> {
            if (!epoch.is(ep)) {
                return;
            }
            if (code == 200) {
                try {
                    Map<String, Object> r = Json.obj(Json.parse(text), "result response");
                    lastPayout = r.get("payout_micro_usdc") == null ? 0 : Json.integer(r, "payout_micro_usdc");
                    if (r.get("balance_micro_usdc") != null) {
                        balance = Json.integer(r, "balance_micro_usdc");
                    }
                    if (r.get("pending_micro_usdc") != null) {
                        pending = Json.integer(r, "pending_micro_usdc");
                        lastPendingRefresh = host.nowMs();
                    }
                } catch (RuntimeException e) {
                    lastPayout = 0;
                }
                jobsCompleted++;
                cb.done(null);
            } else if ((code == 0 || code >= 500 || code == 429) && attempt < NodeLoop.MAX_SUBMIT_ATTEMPTS
                    && mayRetry.getAsBoolean()) {
                // the same key and body: the backend credits a result once however often it is sent
                host.schedule(delayMs.getAsLong(), () -> {
                    if (epoch.is(ep)) {
                        submit(j, body, key, attempt + 1, epoch, ep, mayRetry, delayMs, sending, cb);
                    }
                });
            } else {
                cb.done("result for " + j.jobId() + " " + (code == 0 || code >= 500 || code == 429
                        ? "not submitted: " : "rejected: ") + NodeLoop.describe(code, text));
            }
        });
    }
}
