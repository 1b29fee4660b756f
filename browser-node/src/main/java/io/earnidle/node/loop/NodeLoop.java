package io.earnidle.node.loop;

import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The node's control loop, written against {@link NodeHost} callbacks: register, poll with backoff + jitter,
 * download (and cache) the model, generate, submit with an Idempotency-Key (same key on retries), and report status.
 * Single-threaded: every method runs on the host's event loop.
 */
public final class NodeLoop {
    public static final long MAX_BACKOFF_MS = 10_000;
    public static final int MAX_SUBMIT_ATTEMPTS = 6;

    private final NodeHost host;
    private final String apiBase;
    private final String placementId;
    private final Object capabilities;
    private final Object limits;
    private Backoff backoff;
    private String state = "registering";
    private String sessionId;
    private String sessionToken;
    private long jobsCompleted;
    private long balance;
    private long lastPayout;
    private String currentJobId;
    private boolean paused;
    private boolean stopped;
    private boolean busy;
    private int pollGeneration;
    private String cachedModelId;
    private LlamaModel cachedModel;

    public NodeLoop(NodeHost host, String apiBase, String placementId, Object capabilities, Object limits) {
        this.host = host;
        this.apiBase = apiBase.endsWith("/") ? apiBase.substring(0, apiBase.length() - 1) : apiBase;
        this.placementId = placementId;
        this.capabilities = capabilities == null ? new LinkedHashMap<String, Object>() : capabilities;
        this.limits = limits == null ? new LinkedHashMap<String, Object>() : limits;
        this.backoff = new Backoff(1000, MAX_BACKOFF_MS, host.randomSeed());
    }

    /** Builds a loop from the worker's start message ({@code {type:"start", apiBase, placementId, ...}}). */
    public static NodeLoop fromStartMessage(NodeHost host, String json) {
        Map<String, Object> m = Json.obj(Json.parse(json), "start message");
        return new NodeLoop(host, Json.str(m, "apiBase"), Json.str(m, "placementId"), m.get("capabilities"),
                m.get("limits"));
    }

    public String state() {
        return state;
    }

    public long jobsCompleted() {
        return jobsCompleted;
    }

    public void start() {
        status("registering", null);
        register();
    }

    public void pause() {
        if (stopped || paused) {
            return;
        }
        paused = true;
        pollGeneration++;
        if (!busy) {
            status("paused", null);
        }
    }

    public void resume() {
        if (stopped || !paused) {
            return;
        }
        paused = false;
        if (!busy) {
            if (sessionToken == null) {
                status("registering", null);
                register();
            } else {
                status("idle", null);
                schedulePoll(0);
            }
        }
    }

    public void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        pollGeneration++;
        if (!busy) {
            status("stopped", null);
        }
    }

    private void register() {
        busy = true;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("placement_id", placementId);
        body.put("capabilities", capabilities);
        body.put("limits", limits);
        host.request("POST", apiBase + "/api/nodes", null, null, Json.write(body), (code, text) -> {
            busy = false;
            try {
                if (code != 201 && code != 200) {
                    throw new IllegalStateException("registration failed: " + describe(code, text));
                }
                Map<String, Object> r = Json.obj(Json.parse(text), "registration response");
                sessionId = Json.str(r, "session_id");
                sessionToken = Json.str(r, "session_token");
                long interval = r.get("poll_interval_ms") == null ? 1000 : Json.integer(r, "poll_interval_ms");
                interval = Math.max(50, Math.min(interval, MAX_BACKOFF_MS));
                backoff = new Backoff(interval, MAX_BACKOFF_MS, host.randomSeed());
            } catch (RuntimeException e) {
                status("error", message(e));
                if (!stopped) {
                    host.schedule(backoff.nextDelayMs(), () -> {
                        if (!stopped && !paused) {
                            register();
                        }
                    });
                }
                return;
            }
            afterIdle();
        });
    }

    /** Called whenever nothing is in flight: decide what comes next. */
    private void afterIdle() {
        if (stopped) {
            status("stopped", null);
        } else if (paused) {
            status("paused", null);
        } else {
            status("idle", null);
            schedulePoll(0);
        }
    }

    private void schedulePoll(long delayMs) {
        int gen = ++pollGeneration;
        host.schedule(delayMs, () -> {
            if (gen == pollGeneration && !stopped && !paused && !busy) {
                poll();
            }
        });
    }

    private void poll() {
        busy = true;
        host.request("GET", apiBase + "/api/inference/job", sessionToken, null, null, (code, text) -> {
            if (code == 204) {
                busy = false;
                if (!stopped && !paused) {
                    schedulePoll(backoff.nextDelayMs());
                } else {
                    afterIdle();
                }
                return;
            }
            if (code == 401) {
                busy = false;
                sessionToken = null;
                status("registering", "session no longer valid, registering again");
                register();
                return;
            }
            if (code != 200) {
                busy = false;
                status("error", "polling failed: " + describe(code, text));
                if (!stopped && !paused) {
                    schedulePoll(backoff.nextDelayMs());
                } else {
                    afterIdle();
                }
                return;
            }
            JobSpec job;
            try {
                job = JobSpec.parse(text);
            } catch (RuntimeException e) {
                busy = false;
                status("error", "invalid job: " + message(e));
                schedulePoll(backoff.nextDelayMs());
                return;
            }
            backoff.reset();
            runJob(job);
        });
    }

    private void runJob(JobSpec job) {
        currentJobId = job.jobId();
        if (job.modelId().equals(cachedModelId) && cachedModel != null) {
            execute(job, cachedModel);
            return;
        }
        status("downloading", "model " + job.modelId());
        cachedModel = null; // keep at most one model in memory
        cachedModelId = null;
        String url = job.modelUrl().startsWith("http://") || job.modelUrl().startsWith("https://")
                ? job.modelUrl() : apiBase + (job.modelUrl().startsWith("/") ? "" : "/") + job.modelUrl();
        host.fetchBytes(url, (code, data, error) -> {
            LlamaModel model;
            try {
                if (code != 200 || data == null) {
                    throw new IllegalStateException("model download failed: " + describe(code, error));
                }
                if (job.modelSizeBytes() >= 0 && data.length != job.modelSizeBytes()) {
                    throw new IllegalStateException("model size " + data.length + " bytes, expected "
                            + job.modelSizeBytes());
                }
                if (job.modelSha256() != null) {
                    String actual = Sha256.hex(data);
                    if (!actual.equals(job.modelSha256())) {
                        throw new IllegalStateException("model sha256 " + actual + " does not match " + job.modelSha256());
                    }
                }
                model = LlamaModel.load(ByteBuffer.wrap(data));
            } catch (RuntimeException e) {
                failJob(job, e);
                return;
            }
            cachedModelId = job.modelId();
            cachedModel = model;
            execute(job, model);
        });
    }

    private void execute(JobSpec job, LlamaModel model) {
        status("running", null);
        GenerationResult result;
        try {
            result = model.generate(job.toRequest());
        } catch (RuntimeException e) {
            failJob(job, e);
            return;
        }
        Map<String, Object> timing = new LinkedHashMap<>();
        timing.put("prefill_ms", result.prefillMs());
        timing.put("decode_ms", result.decodeMs());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("job_id", job.jobId());
        body.put("lease_id", job.leaseId());
        body.put("text", result.text());
        body.put("token_ids", result.tokenIds());
        body.put("token_count", result.tokenIds().length);
        body.put("engine", host.engine());
        body.put("timing", timing);
        submit(job, Json.write(body), host.newIdempotencyKey(), 1);
    }

    private void submit(JobSpec job, String body, String key, int attempt) {
        status("submitting", attempt > 1 ? "retry " + attempt : null);
        host.request("POST", apiBase + "/api/inference/result", sessionToken, key, body, (code, text) -> {
            if (code == 200) {
                try {
                    Map<String, Object> r = Json.obj(Json.parse(text), "result response");
                    lastPayout = r.get("payout_micro_usdc") == null ? 0 : Json.integer(r, "payout_micro_usdc");
                    if (r.get("balance_micro_usdc") != null) {
                        balance = Json.integer(r, "balance_micro_usdc");
                    }
                } catch (RuntimeException e) {
                    lastPayout = 0;
                }
                jobsCompleted++;
                finishJob(null);
            } else if ((code == 0 || code >= 500 || code == 429) && attempt < MAX_SUBMIT_ATTEMPTS) {
                host.schedule(backoff.nextDelayMs(), () -> submit(job, body, key, attempt + 1));
            } else {
                finishJob("result for " + job.jobId() + " rejected: " + describe(code, text));
            }
        });
    }

    private void failJob(JobSpec job, Throwable e) {
        finishJob("job " + job.jobId() + " failed: " + message(e));
    }

    private void finishJob(String error) {
        if (error != null) {
            status("error", error);
        }
        currentJobId = null;
        busy = false;
        backoff.reset();
        afterIdle();
    }

    private static String describe(int code, String text) {
        String t = text == null ? "" : text.length() > 300 ? text.substring(0, 300) + "…" : text;
        return code == 0 ? "network error " + t : "HTTP " + code + " " + t;
    }

    private static String message(Throwable e) {
        return e.getMessage() == null ? e.getClass().getName() : e.getMessage();
    }

    private void status(String newState, String message) {
        state = newState;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "status");
        m.put("state", newState);
        m.put("session_id", sessionId);
        m.put("jobs_completed", jobsCompleted);
        m.put("balance_micro_usdc", balance);
        m.put("last_payout_micro_usdc", lastPayout);
        m.put("engine", host.engine());
        m.put("job_id", currentJobId);
        m.put("message", message);
        host.postStatus(Json.write(m));
    }
}
