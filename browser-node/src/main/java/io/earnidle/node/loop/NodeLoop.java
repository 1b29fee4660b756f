package io.earnidle.node.loop;

import io.earnidle.node.engine.Engine;
import io.earnidle.node.engine.EngineChoice;
import io.earnidle.node.engine.EngineGeneration;
import io.earnidle.node.engine.JvmEngine;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The node's control loop, written against {@link NodeHost} callbacks: register, poll with backoff + jitter,
 * download the model (streamed, throttled, resumable, verified, kept in the persistent cache), load it into the best
 * engine the platform has ({@link NodeHost#loadEngine}: WebGPU when limits.gpu allows it, else WASM SIMD, else the
 * pure-Java engine), generate step by step under the CPU share, submit with an Idempotency-Key (same key on retries),
 * and report status (with the engine's name).
 *
 * <p>Once an accelerated engine owns the model's bytes (kernel memory, GPU buffers), the loop keeps no Java copy: a
 * later job for the same model reuses the engine; anything else (another model, the GPU switched off under a WebGPU
 * engine, a lower memory limit) drops it and reloads from the persistent cache or the network.
 *
 * <p>Single-threaded: every method runs on the host's event loop, and long work is cut into short slices with a
 * yield between them, so pause/stop/limits messages are handled within a slice (milliseconds). A job that cannot
 * finish within {@link #FINISH_WITHIN_MS} of a pause or stop is cancelled and never submitted (its lease expires and
 * the backend hands it out again); one that can is finished and submitted first.
 */
public final class NodeLoop {
    public static final long MAX_BACKOFF_MS = 10_000;
    public static final int MAX_SUBMIT_ATTEMPTS = 6;
    /** A running job closer to its end than this when paused/stopped is finished (and submitted) instead of cancelled. */
    public static final double FINISH_WITHIN_MS = 600;
    /** Running/downloading status messages are sent at most this often. */
    public static final double STATUS_EVERY_MS = 200;
    /** The pending balance is refreshed (GET /api/nodes/me) at most this often while some of it is pending. */
    public static final double REFRESH_PENDING_EVERY_MS = 15_000;
    static final int MAX_DOWNLOAD_RETRIES = 5;
    static final int HASH_SLICE_BYTES = 1 << 20;
    public static final String CACHE_PATH = "/earnidle-model-cache/";

    private final NodeHost host;
    private final String apiBase;
    private final String placementId;
    private final Object capabilities;
    private final NodeLimits limits;
    private String walletToken;
    private final DutyCycle duty;
    private Backoff backoff;

    private String state = "registering";
    private String message;
    private String sessionId;
    private String sessionToken;
    /** Whether the session is linked to a wallet (registered with one, or linked later). */
    private boolean walletLinked;
    private String linkError;
    private long jobsCompleted;
    private long balance;
    private long pending;
    private long lastPayout;
    private double lastPendingRefresh = Double.NEGATIVE_INFINITY;

    private boolean visitorPaused;
    private boolean hidden;
    private boolean onBattery;
    private boolean stopped;
    private boolean started;
    /** Something is in flight (a request, a download, a job): when it ends, {@link #afterIdle} decides what next. */
    private boolean busy;
    /** Bumped to cancel: callbacks of an older epoch do nothing. */
    private int epoch;
    private int pollGeneration;
    private boolean gpuProbed;
    private Boolean gpuAvailable;

    // the job being worked on
    private JobSpec job;
    private EngineGeneration generation;
    /** The engine whose step is in flight (asynchronous engines), even for a generation cancelled meanwhile. */
    private Engine engineInFlight;
    /** Runs once {@link #engineInFlight} is idle again (a new job on an engine still finishing a cancelled step). */
    private Runnable whenEngineIdle;
    private double sliceStartMs;
    private boolean inStep;
    private boolean stepSync;
    private String stepError;
    private boolean finishing;
    private boolean submitting;
    private double jobBusyMs;
    private int jobSteps;
    private double decodeStartMs = Double.NaN;
    private Double tokensPerS;
    private double lastStatusMs = Double.NEGATIVE_INFINITY;

    // the model in memory, the download in progress (kept when cancelled, to resume), bytes downloaded this session
    private String cachedModelId;
    private String cachedModelSha;
    private long cachedModelBytes;
    private Engine cachedEngine;
    /** Why better engines were not used for the cached model ("webgpu: no adapter", ...). */
    private List<String> engineNotes = List.of();
    /** The engine of the last model loaded (reported once that engine is gone, e.g. after a stop). */
    private String lastEngineName;
    /** Accelerated engines that failed during a job this session: not tried again. */
    private final java.util.Set<EngineChoice> failedEngines = java.util.EnumSet.noneOf(EngineChoice.class);
    private Download download;
    private long sessionDownloadBytes;

    /** A model download: the bytes so far and their running SHA-256. */
    private static final class Download {
        final String modelId;
        final String sha;
        final String url;
        long total;
        byte[] buf;
        int loaded;
        Sha256 digest = new Sha256();
        int handle = -1;
        int failures;
        double openedAtMs;
        long loadedAtOpen;

        Download(String modelId, String sha, String url, long total) {
            this.modelId = modelId;
            this.sha = sha;
            this.url = url;
            this.total = total;
            this.buf = new byte[(int) Math.max(0, Math.min(total > 0 ? total : 1 << 20, Integer.MAX_VALUE - 16))];
        }

        void restart() {
            loaded = 0;
            digest = new Sha256();
        }

        void append(byte[] data) {
            long need = (long) loaded + data.length;
            if (need > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("model larger than 2 GiB");
            }
            if (need > buf.length) {
                byte[] b = new byte[(int) Math.min(Integer.MAX_VALUE - 16, Math.max(need, (long) buf.length * 2))];
                System.arraycopy(buf, 0, b, 0, loaded);
                buf = b;
            }
            System.arraycopy(data, 0, buf, loaded, data.length);
            digest.update(data, 0, data.length);
            loaded += data.length;
        }

        byte[] bytes() {
            if (buf.length == loaded) {
                return buf;
            }
            byte[] b = new byte[loaded];
            System.arraycopy(buf, 0, b, 0, loaded);
            return b;
        }
    }

    public NodeLoop(NodeHost host, String apiBase, String placementId, Object capabilities, Object limits) {
        this(host, apiBase, placementId, capabilities, limits, null);
    }

    public NodeLoop(NodeHost host, String apiBase, String placementId, Object capabilities, Object limits,
                    String walletToken) {
        this.host = host;
        this.apiBase = apiBase.endsWith("/") ? apiBase.substring(0, apiBase.length() - 1) : apiBase;
        this.placementId = placementId;
        this.capabilities = capabilities == null ? new LinkedHashMap<String, Object>() : capabilities;
        this.limits = NodeLimits.of(limits);
        this.walletToken = walletToken == null || walletToken.isEmpty() ? null : walletToken;
        this.duty = new DutyCycle(this.limits.cpuShare());
        this.backoff = new Backoff(1000, MAX_BACKOFF_MS, host.randomSeed());
    }

    /** Builds a loop from the worker's start message ({@code {type:"start", apiBase, placementId, ...}}). */
    public static NodeLoop fromStartMessage(NodeHost host, String json) {
        Map<String, Object> m = Json.obj(Json.parse(json), "start message");
        return new NodeLoop(host, Json.str(m, "apiBase"), Json.str(m, "placementId"), m.get("capabilities"),
                m.get("limits"), Json.optStr(m, "walletToken"));
    }

    /** The persistent-cache key of a model file: one entry per model id and content hash. */
    public static String cacheKey(String apiBase, String modelId, String sha256) {
        String base = apiBase.endsWith("/") ? apiBase.substring(0, apiBase.length() - 1) : apiBase;
        StringBuilder id = new StringBuilder();
        for (int i = 0; i < modelId.length(); i++) {
            char c = modelId.charAt(i);
            id.append(Character.isLetterOrDigit(c) && c < 128 || c == '-' || c == '_' || c == '.' ? c : '_');
        }
        return base + CACHE_PATH + id + "/" + sha256;
    }

    public String state() {
        return state;
    }

    public long jobsCompleted() {
        return jobsCompleted;
    }

    public NodeLimits limits() {
        return limits;
    }

    /** Why the node is paused ("visitor", "hidden", "battery"), or null when it may work. */
    public String pausedReason() {
        if (visitorPaused) {
            return "visitor";
        }
        if (hidden && limits.onlyWhenVisible()) {
            return "hidden";
        }
        if (onBattery && limits.pauseOnBattery()) {
            return "battery";
        }
        return null;
    }

    private boolean halted() {
        return stopped || pausedReason() != null;
    }

    // ---- control messages -------------------------------------------------------------------------------------

    public void start() {
        if (started) {
            return;
        }
        started = true;
        maybeProbeGpu();
        if (halted()) {
            status(stopped ? "stopped" : "paused", null);
            return;
        }
        status("registering", null);
        register();
    }

    /**
     * Handles a control message from the page (JSON text): pause, resume, stop, limits, visibility, power, link
     * ({@code wallet_token}: a wallet verified after the session started claims it).
     */
    public void control(String json) {
        Map<String, Object> m;
        try {
            m = Json.obj(Json.parse(json), "message");
        } catch (RuntimeException e) {
            return;
        }
        Object type = m.get("type");
        try {
            if ("pause".equals(type)) {
                pause();
            } else if ("resume".equals(type)) {
                resume();
            } else if ("stop".equals(type)) {
                stop();
            } else if ("limits".equals(type)) {
                setLimits(m.get("limits"));
            } else if ("visibility".equals(type)) {
                setVisible(!Boolean.FALSE.equals(m.get("visible")));
            } else if ("power".equals(type)) {
                setOnBattery(Boolean.TRUE.equals(m.get("on_battery")));
            } else if ("link".equals(type)) {
                linkWallet(Json.str(m, "wallet_token"));
            }
        } catch (IllegalArgumentException e) {
            status(state, "ignored " + type + " message: " + message(e));
        }
    }

    /**
     * Links this session to the wallet of {@code token} ({@code POST /api/wallets/sessions}): what the session
     * earned before, and everything after, goes to that wallet. Before registration the token is simply used to
     * register. The session keeps running either way; a refused link is reported in the status.
     */
    public void linkWallet(String token) {
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("link needs a wallet_token");
        }
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
                status(state, "session linked to the wallet");
            } else {
                linkError = "linking the session to the wallet failed: " + describe(code, text);
                status(state, linkError);
            }
        });
    }

    public void pause() {
        visitorPaused = true;
        reconsider();
    }

    public void resume() {
        visitorPaused = false;
        reconsider();
    }

    public void stop() {
        stopped = true;
        reconsider();
    }

    public void setVisible(boolean visible) {
        hidden = !visible;
        reconsider();
    }

    public void setOnBattery(boolean battery) {
        onBattery = battery;
        reconsider();
    }

    public void setLimits(Object update) {
        limits.update(update);
        duty.setShare(limits.cpuShare());
        if (!limits.gpu()) {
            gpuAvailable = null; // never use the GPU the visitor turned off
            if (cachedEngine != null && usesGpu(cachedEngine)) {
                // the model is reloaded (from the persistent cache) into a CPU engine for the next job
                if (generation != null) {
                    String id = job.jobId();
                    cancelWork();
                    dropCachedModel();
                    afterIdle("the GPU was switched off: job " + id + " cancelled, not submitted");
                } else {
                    dropCachedModel();
                }
            }
        }
        maybeProbeGpu();
        long mem = limits.memoryBytes();
        if (mem >= 0 && cachedEngine != null && cachedModelBytes > mem && generation == null) {
            dropCachedModel();
        }
        reconsider();
        if (!halted()) {
            status(state, message);
        }
    }

    private void maybeProbeGpu() {
        if (limits.gpu() && !gpuProbed && !stopped) {
            gpuProbed = true;
            host.probeGpu(ok -> {
                if (limits.gpu()) {
                    gpuAvailable = ok;
                }
            });
        }
    }

    /** Applies the pause/stop flags to whatever is in flight, or restarts work when nothing stops it any more. */
    private void reconsider() {
        if (!started) {
            return;
        }
        if (halted()) {
            pollGeneration++;
            if (generation != null) {
                if (finishing) {
                    return;
                }
                if (canFinishSoon()) {
                    finishing = true; // the job ends (and is submitted) before the node halts
                    status("running", "finishing job " + job.jobId() + " first");
                } else {
                    String id = job.jobId();
                    cancelWork();
                    afterIdle("job " + id + " cancelled, not submitted");
                }
            } else if (submitting) {
                // a submission is atomic on the backend: let the request in flight end, then halt (no retries)
                status("submitting", "halting after this submission");
            } else if (busy) {
                // looking in the cache, downloading, verifying, registering or polling: drop it (a leased job
                // simply expires; a partial download is kept to resume)
                String what = job != null ? "job " + job.jobId() + " cancelled before it ran" : null;
                if (download != null && download.loaded > 0 && job != null) {
                    what = "download paused at " + download.loaded + " bytes; " + what;
                }
                cancelWork();
                afterIdle(what);
            } else {
                afterIdle(null);
            }
            return;
        }
        if (!busy && "paused".equals(state)) {
            afterIdle(null); // register or poll again
        }
    }

    /** Whether the running job would end within {@link #FINISH_WITHIN_MS}, judged by its own step times so far. */
    private boolean canFinishSoon() {
        if (generation == null || jobSteps == 0) {
            return false;
        }
        double perStep = jobBusyMs / jobSteps;
        double wall = generation.stepsLeft() * perStep / duty.share();
        return wall <= FINISH_WITHIN_MS;
    }

    /** Abandons whatever is in flight (callbacks of the current epoch become no-ops). */
    private void cancelWork() {
        epoch++;
        if (download != null && download.handle >= 0) {
            host.closeStream(download.handle);
            download.handle = -1;
        }
        generation = null;
        finishing = false;
        job = null;
        busy = false;
        duty.idle();
    }

    // ---- register and poll ------------------------------------------------------------------------------------

    private void register() {
        busy = true;
        int ep = epoch;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("placement_id", placementId);
        body.put("capabilities", capabilities);
        body.put("limits", limits.raw());
        boolean withWallet = walletToken != null;
        if (withWallet) {
            body.put("wallet_token", walletToken);
        }
        host.request("POST", apiBase + "/api/nodes", null, null, Json.write(body), (code, text) -> {
            if (ep != epoch) {
                return;
            }
            busy = false;
            try {
                if (code == 401 && withWallet) {
                    walletToken = null;
                    throw new IllegalStateException("the wallet token was refused (unknown or expired); registering"
                            + " without a wallet, the session can be linked later");
                }
                if (code != 201 && code != 200) {
                    throw new IllegalStateException("registration failed: " + describe(code, text));
                }
                Map<String, Object> r = Json.obj(Json.parse(text), "registration response");
                sessionId = Json.str(r, "session_id");
                sessionToken = Json.str(r, "session_token");
                walletLinked = withWallet && walletToken != null;
                long interval = r.get("poll_interval_ms") == null ? 1000 : Json.integer(r, "poll_interval_ms");
                interval = Math.max(50, Math.min(interval, MAX_BACKOFF_MS));
                backoff = new Backoff(interval, MAX_BACKOFF_MS, host.randomSeed());
                if (!walletLinked && walletToken != null) {
                    linkWallet(walletToken); // a wallet verified while the registration was in flight
                }
            } catch (RuntimeException e) {
                status("error", message(e));
                if (halted()) {
                    afterIdle(message(e));
                } else {
                    long delay = walletToken == null && withWallet ? 0 : backoff.nextDelayMs();
                    int gen = ++pollGeneration;
                    host.schedule(delay, () -> {
                        if (gen == pollGeneration && !halted() && !busy && sessionToken == null) {
                            register();
                        }
                    });
                }
                return;
            }
            afterIdle(null);
        });
    }

    /** Called whenever nothing is in flight: decide what comes next. */
    private void afterIdle(String msg) {
        duty.idle();
        if (stopped) {
            dropCachedModel(); // frees the engine's memory (kernel memory, GPU buffers): a stopped node does not restart
            status("stopped", msg);
        } else if (pausedReason() != null) {
            status("paused", msg);
        } else if (sessionToken == null) {
            status("registering", msg);
            register();
        } else {
            status("idle", msg);
            schedulePoll(0);
        }
    }

    private void schedulePoll(long delayMs) {
        int gen = ++pollGeneration;
        host.schedule(delayMs, () -> {
            if (gen == pollGeneration && !halted() && !busy) {
                poll();
            }
        });
    }

    private void poll() {
        busy = true;
        int ep = epoch;
        refreshPendingIfDue();
        host.request("GET", apiBase + "/api/inference/job", sessionToken, null, null, (code, text) -> {
            if (ep != epoch) {
                return;
            }
            if (code == 204) {
                busy = false;
                if (!halted()) {
                    schedulePoll(backoff.nextDelayMs());
                } else {
                    afterIdle(null);
                }
                return;
            }
            if (code == 401) {
                busy = false;
                sessionToken = null;
                sessionId = null;
                afterIdle("session no longer valid, registering again");
                return;
            }
            if (code != 200) {
                busy = false;
                status("error", "polling failed: " + describe(code, text));
                if (!halted()) {
                    schedulePoll(backoff.nextDelayMs());
                } else {
                    afterIdle(null);
                }
                return;
            }
            JobSpec j;
            try {
                j = JobSpec.parse(text);
            } catch (RuntimeException e) {
                busy = false;
                status("error", "invalid job: " + message(e));
                if (!halted()) {
                    schedulePoll(backoff.nextDelayMs());
                } else {
                    afterIdle(null);
                }
                return;
            }
            if (halted()) {
                busy = false;
                afterIdle("job " + j.jobId() + " left to expire (not run)");
                return;
            }
            backoff.reset();
            runJob(j);
        });
    }

    private void refreshPendingIfDue() {
        double now = host.nowMs();
        if (pending <= 0 || now - lastPendingRefresh < REFRESH_PENDING_EVERY_MS) {
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
            } catch (RuntimeException e) {
                return;
            }
            status(state, message);
        });
    }

    // ---- model: memory, cache, download -----------------------------------------------------------------------

    private void runJob(JobSpec j) {
        job = j;
        generation = null;
        finishing = false;
        jobBusyMs = 0;
        jobSteps = 0;
        decodeStartMs = Double.NaN;
        if (j.modelId().equals(cachedModelId) && cachedEngine != null
                && (j.modelSha256() == null || j.modelSha256().equals(cachedModelSha))) {
            execute(cachedEngine);
            return;
        }
        dropCachedModel(); // keep at most one model in memory
        long mem = limits.memoryBytes();
        if (mem >= 0 && j.modelSizeBytes() > mem) {
            refuse("model " + j.modelId() + " needs " + mb(j.modelSizeBytes()) + " MB, more than the memory limit of "
                    + limits.memoryMb() + " MB: job not run");
            return;
        }
        String url = j.modelUrl().startsWith("http://") || j.modelUrl().startsWith("https://")
                ? j.modelUrl() : apiBase + (j.modelUrl().startsWith("/") ? "" : "/") + j.modelUrl();
        if (j.modelSha256() == null) {
            startDownload(j, url); // nothing to verify a cached copy with: always download
            return;
        }
        String key = cacheKey(apiBase, j.modelId(), j.modelSha256());
        int ep = epoch;
        status("downloading", "model " + j.modelId() + ": looking in the cache");
        host.cacheGet(key, (code, data, error) -> {
            if (ep != epoch) {
                return;
            }
            if (code != 200 || data == null) {
                startDownload(j, url);
                return;
            }
            verifyInSlices(data, ep, actual -> {
                if (actual.equals(j.modelSha256()) && (j.modelSizeBytes() < 0 || data.length == j.modelSizeBytes())) {
                    loadModel(j, data, "from the cache");
                } else {
                    status("downloading", "cached model " + j.modelId() + " is corrupt (sha256 " + actual
                            + "): deleting it and downloading again");
                    host.cacheDelete(key, ok -> {
                        if (ep == epoch) {
                            startDownload(j, url);
                        }
                    });
                }
            });
        });
    }

    private static long mb(long bytes) {
        return (bytes + 1_048_575) / 1_048_576;
    }

    private interface HashDone {
        void done(String hex);
    }

    /** SHA-256 of {@code data} a slice at a time (a big model would otherwise block control messages). */
    private void verifyInSlices(byte[] data, int ep, HashDone done) {
        Sha256 d = new Sha256();
        hashSlice(data, 0, d, ep, done);
    }

    private void hashSlice(byte[] data, int off, Sha256 d, int ep, HashDone done) {
        if (ep != epoch) {
            return;
        }
        double t0 = host.nowMs();
        int n = Math.min(HASH_SLICE_BYTES, data.length - off);
        d.update(data, off, n);
        double sleep = duty.afterSlice(t0, host.nowMs());
        if (off + n >= data.length) {
            done.done(d.hexDigest());
            return;
        }
        host.schedule((long) Math.ceil(sleep), () -> hashSlice(data, off + n, d, ep, done));
    }

    private void refuse(String why) {
        String id = job.jobId();
        job = null;
        busy = false;
        status("error", why + " (job " + id + " left to expire)");
        if (!halted()) {
            schedulePoll(backoff.nextDelayMs());
        } else {
            afterIdle(why);
        }
    }

    private void startDownload(JobSpec j, String url) {
        if (download == null || !download.modelId.equals(j.modelId())
                || (download.sha == null ? j.modelSha256() != null : !download.sha.equals(j.modelSha256()))) {
            download = new Download(j.modelId(), j.modelSha256(), url, j.modelSizeBytes());
        }
        Download d = download;
        long remaining = d.total > 0 ? d.total - d.loaded : 0;
        long cap = limits.sessionBytes();
        if (cap >= 0 && sessionDownloadBytes + remaining > cap) {
            refuse("model " + j.modelId() + " needs " + mb(remaining) + " MB more, beyond the session's bandwidth cap of "
                    + limits.bandwidthMbPerSession() + " MB (" + mb(sessionDownloadBytes) + " MB used): job not run");
            return;
        }
        openDownload(d);
    }

    private void openDownload(Download d) {
        int ep = epoch;
        statusDownload(true);
        host.openStream(d.url, d.loaded, (code, handle, startOffset, totalBytes, error) -> {
            if (ep != epoch) {
                if (handle >= 0) {
                    host.closeStream(handle);
                }
                return;
            }
            if (code == 200 || code == 206) {
                if (code == 200 || startOffset != d.loaded) {
                    d.restart(); // the server sent the whole file (no Range support): start over
                }
                if (totalBytes > 0) {
                    if (d.total > 0 && totalBytes != d.total) {
                        host.closeStream(handle);
                        failJob("model size " + totalBytes + " bytes, expected " + d.total);
                        download = null;
                        return;
                    }
                    d.total = totalBytes;
                }
                long mem = limits.memoryBytes();
                if (mem >= 0 && d.total > mem) {
                    host.closeStream(handle);
                    download = null;
                    refuse("model " + d.modelId + " is " + mb(d.total) + " MB, more than the memory limit of "
                            + limits.memoryMb() + " MB: job not run");
                    return;
                }
                d.handle = handle;
                d.openedAtMs = host.nowMs();
                d.loadedAtOpen = d.loaded;
                readNext(d, ep);
            } else if (code == 0 && d.failures < MAX_DOWNLOAD_RETRIES) {
                retryDownload(d, ep, error);
            } else {
                download = null;
                failJob("model download failed: " + describe(code, error));
            }
        });
    }

    private void retryDownload(Download d, int ep, String error) {
        d.failures++;
        d.handle = -1;
        status("downloading", "download interrupted (" + error + "), resuming at " + d.loaded + " bytes");
        host.schedule(backoff.nextDelayMs(), () -> {
            if (ep == epoch) {
                openDownload(d);
            }
        });
    }

    private void readNext(Download d, int ep) {
        host.readStream(d.handle, (data, error) -> {
            if (ep != epoch) {
                return;
            }
            if (error != null) {
                host.closeStream(d.handle);
                if (d.failures < MAX_DOWNLOAD_RETRIES) {
                    retryDownload(d, ep, error);
                } else {
                    download = null;
                    failJob("model download failed: " + error);
                }
                return;
            }
            if (data == null) {
                d.handle = -1;
                finishDownload(d, ep);
                return;
            }
            try {
                if (d.total > 0 && d.loaded + (long) data.length > d.total) {
                    throw new IllegalStateException("the server sent more than the model's " + d.total + " bytes");
                }
                long mem = limits.memoryBytes();
                if (mem >= 0 && d.loaded + (long) data.length > mem) {
                    throw new IllegalStateException("model " + d.modelId + " is larger than the memory limit of "
                            + limits.memoryMb() + " MB");
                }
                d.append(data);
            } catch (RuntimeException e) {
                host.closeStream(d.handle);
                download = null;
                failJob(message(e));
                return;
            }
            sessionDownloadBytes += data.length;
            long cap = limits.sessionBytes();
            if (cap >= 0 && sessionDownloadBytes > cap) {
                host.closeStream(d.handle);
                d.handle = -1;
                refuse("the session's bandwidth cap of " + limits.bandwidthMbPerSession()
                        + " MB is used up: download stopped");
                return;
            }
            statusDownload(false);
            double delay = 0;
            double rate = limits.bytesPerMs();
            if (rate > 0) {
                double due = d.openedAtMs + (d.loaded - d.loadedAtOpen) / rate;
                delay = due - host.nowMs();
            }
            if (delay > 0) {
                host.schedule((long) Math.ceil(delay), () -> {
                    if (ep == epoch) {
                        readNext(d, ep);
                    }
                });
            } else {
                readNext(d, ep);
            }
        });
    }

    private void finishDownload(Download d, int ep) {
        if (d.total > 0 && d.loaded != d.total) {
            download = null;
            failJob("model download ended at " + d.loaded + " of " + d.total + " bytes");
            return;
        }
        byte[] data = d.bytes();
        String actual = d.digest.hexDigest();
        if (d.sha != null && !actual.equals(d.sha)) {
            download = null;
            failJob("model sha256 " + actual + " does not match " + d.sha);
            return;
        }
        statusDownload(true);
        download = null;
        if (d.sha != null) {
            host.cachePut(cacheKey(apiBase, d.modelId, d.sha), data, ok -> {
            });
        }
        if (ep == epoch) {
            loadModel(job, data, "downloaded");
        }
    }

    private static boolean usesGpu(Engine e) {
        return "webgpu".equals(e.name());
    }

    /** The accelerated engines to try, best first (the pure-Java engine is the loop's own fallback). */
    private List<EngineChoice> engineCandidates() {
        List<EngineChoice> c = new ArrayList<>(EngineChoice.candidates("auto",
                limits.gpu() && !Boolean.FALSE.equals(gpuAvailable)));
        c.remove(EngineChoice.JVM);
        c.removeAll(failedEngines);
        return c;
    }

    /**
     * Hands the verified model bytes to the best engine: an accelerated engine copies them into its own memory (and
     * this loop then holds no reference to the array), the pure-Java fallback wraps the array itself.
     */
    private void loadModel(JobSpec j, byte[] data, String how) {
        int ep = epoch;
        status("downloading", "model " + j.modelId() + " " + how + ": loading it into the engine");
        host.loadEngine(data, engineCandidates(), (accelerated, notes) -> {
            Engine engine = accelerated;
            if (engine != null && usesGpu(engine) && !limits.gpu()) {
                engine.close(); // the GPU was switched off while the engine loaded
                engine = null;
                if (ep == epoch) {
                    loadModel(j, data, how);
                }
                return;
            }
            if (engine == null) {
                try {
                    engine = new JvmEngine(LlamaModel.load(ByteBuffer.wrap(data)), host.engine());
                } catch (RuntimeException e) {
                    if (ep == epoch) {
                        failJob("model " + j.modelId() + " " + how + " does not load: " + message(e));
                    }
                    return;
                }
            }
            if (ep != epoch && (job != null || cachedEngine != null || stopped)) {
                engine.close(); // cancelled while loading, and something newer is under way (or the node stopped)
                return;
            }
            cachedModelId = j.modelId();
            cachedModelSha = j.modelSha256();
            cachedModelBytes = data.length;
            cachedEngine = engine;
            lastEngineName = engine.name();
            engineNotes = notes == null ? List.of() : List.copyOf(notes);
            if (ep == epoch) {
                execute(engine); // else: cancelled while loading; the engine is kept for the next job
            }
        });
    }

    private void dropCachedModel() {
        if (cachedEngine != null) {
            cachedEngine.close();
        }
        cachedEngine = null;
        cachedModelId = null;
        cachedModelSha = null;
        cachedModelBytes = 0;
        engineNotes = List.of();
    }

    // ---- generation, a slice at a time ------------------------------------------------------------------------

    private void execute(Engine engine) {
        if (engineInFlight == engine) {
            // a cancelled job's step is still running on this engine: start when it ends
            int ep = epoch;
            whenEngineIdle = () -> {
                if (ep == epoch && job != null && generation == null) {
                    execute(engine);
                }
            };
            return;
        }
        try {
            generation = new EngineGeneration(engine, job.toRequest(), false);
        } catch (RuntimeException e) {
            failJob(message(e));
            return;
        }
        duty.setParallelism(engine.threads());
        tokensPerS = null;
        status("running", null);
        lastStatusMs = host.nowMs();
        int ep = epoch;
        host.schedule(0, () -> slice(ep));
    }

    private void slice(int ep) {
        if (ep != epoch || generation == null || generation.inFlight()) {
            return;
        }
        sliceStartMs = host.nowMs();
        runSteps(ep, generation);
    }

    /**
     * Runs steps until the slice is used up: a loop for synchronous engines; an asynchronous engine's callback
     * continues the slice (a cancel in the meantime makes it a no-op).
     */
    private void runSteps(int ep, EngineGeneration g) {
        while (true) {
            boolean wasPrefill = g.prefilled() < g.promptLength();
            Engine e = g.engine();
            inStep = true;
            stepSync = false;
            engineInFlight = e;
            g.step(error -> {
                if (engineInFlight == e) {
                    engineInFlight = null;
                }
                stepError = error;
                if (inStep) {
                    stepSync = true;
                    return;
                }
                if (whenEngineIdle != null && engineInFlight == null) {
                    Runnable r = whenEngineIdle;
                    whenEngineIdle = null;
                    host.schedule(0, r);
                }
                if (afterStep(ep, g, wasPrefill)) {
                    runSteps(ep, g);
                }
            });
            inStep = false;
            if (!stepSync || !afterStep(ep, g, wasPrefill)) {
                return;
            }
        }
    }

    /** Accounts for a finished step; true when the slice goes on with another step. */
    private boolean afterStep(int ep, EngineGeneration g, boolean wasPrefill) {
        if (ep != epoch || generation != g) {
            return false; // cancelled while the step ran
        }
        if (stepError != null) {
            generation = null;
            Engine e = g.engine();
            if (usesGpu(e)) {
                failedEngines.add(EngineChoice.WEBGPU); // e.g. the device was lost: the next job reloads on the CPU
            } else if (e.name().startsWith("wasm-simd")) {
                failedEngines.add(EngineChoice.WASM_SIMD);
            }
            if (e == cachedEngine) {
                dropCachedModel();
            }
            failJob(stepError + " (engine " + e.name() + ")");
            return false;
        }
        jobSteps++;
        double end = host.nowMs();
        if (wasPrefill && g.prefilled() == g.promptLength()) {
            decodeStartMs = end;
        }
        if (!g.done() && end - sliceStartMs < DutyCycle.SLICE_MS) {
            return true;
        }
        endSlice(ep, g, end);
        return false;
    }

    private void endSlice(int ep, EngineGeneration g, double end) {
        double t0 = sliceStartMs;
        jobBusyMs += end - t0;
        double sleep = duty.afterSlice(t0, end);
        if (!Double.isNaN(decodeStartMs) && end > decodeStartMs && g.tokensDone() > 1) {
            tokensPerS = (g.tokensDone() - 1) * 1000.0 / (end - decodeStartMs);
        }
        if (g.done()) {
            GenerationResult result = g.result();
            generation = null;
            finishing = false;
            submitResult(result, g.engine().name());
            return;
        }
        if (end - lastStatusMs >= STATUS_EVERY_MS) {
            lastStatusMs = end;
            status("running", message, end);
        }
        host.schedule((long) Math.floor(sleep), () -> slice(ep));
    }

    private void submitResult(GenerationResult result, String engineName) {
        Map<String, Object> timing = new LinkedHashMap<>();
        timing.put("prefill_ms", result.prefillMs());
        timing.put("decode_ms", result.decodeMs());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("job_id", job.jobId());
        body.put("lease_id", job.leaseId());
        body.put("text", result.text());
        body.put("token_ids", result.tokenIds());
        body.put("token_count", result.tokenIds().length);
        body.put("engine", engineName);
        body.put("timing", timing);
        submitting = true;
        submit(job, Json.write(body), host.newIdempotencyKey(), 1);
    }

    private void submit(JobSpec j, String body, String key, int attempt) {
        status("submitting", attempt > 1 ? "retry " + attempt : null);
        int ep = epoch;
        host.request("POST", apiBase + "/api/inference/result", sessionToken, key, body, (code, text) -> {
            if (ep != epoch) {
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
                finishJob(null);
            } else if ((code == 0 || code >= 500 || code == 429) && attempt < MAX_SUBMIT_ATTEMPTS && !halted()) {
                // the same key and body: the backend credits a result once however often it is sent
                host.schedule(backoff.nextDelayMs(), () -> {
                    if (ep == epoch) {
                        submit(j, body, key, attempt + 1);
                    }
                });
            } else {
                finishJob("result for " + j.jobId() + " " + (code == 0 || code >= 500 || code == 429
                        ? "not submitted: " : "rejected: ") + describe(code, text));
            }
        });
    }

    private void failJob(String error) {
        finishJob(job == null ? error : "job " + job.jobId() + " failed: " + error);
    }

    private void finishJob(String error) {
        if (error != null) {
            status("error", error);
        }
        job = null;
        generation = null;
        finishing = false;
        submitting = false;
        busy = false;
        backoff.reset();
        afterIdle(null);
    }

    // ---- status -----------------------------------------------------------------------------------------------

    private static String describe(int code, String text) {
        String t = text == null ? "" : text.length() > 300 ? text.substring(0, 300) + "…" : text;
        return code == 0 ? "network error " + t : "HTTP " + code + " " + t;
    }

    private static String message(Throwable e) {
        return e.getMessage() == null ? e.getClass().getName() : e.getMessage();
    }

    private void statusDownload(boolean force) {
        double now = host.nowMs();
        if (force || now - lastStatusMs >= STATUS_EVERY_MS) {
            lastStatusMs = now;
            status("downloading", "model " + (download != null ? download.modelId : job != null ? job.modelId() : ""));
        }
    }

    /**
     * The engine of the running job, else of the model in memory, else the last one used, else (no model loaded
     * yet) the platform's pure-Java engine.
     */
    public String engineName() {
        if (generation != null) {
            return generation.engine().name();
        }
        if (cachedEngine != null) {
            return cachedEngine.name();
        }
        return lastEngineName != null ? lastEngineName : host.engine();
    }

    private void status(String newState, String msg) {
        status(newState, msg, host.nowMs());
    }

    private void status(String newState, String msg, double nowMs) {
        state = newState;
        message = msg;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "status");
        m.put("state", newState);
        m.put("session_id", sessionId);
        m.put("jobs_completed", jobsCompleted);
        m.put("balance_micro_usdc", balance);
        m.put("pending_micro_usdc", pending);
        m.put("last_payout_micro_usdc", lastPayout);
        m.put("engine", engineName());
        m.put("job_id", job == null ? null : job.jobId());
        m.put("message", msg);
        if (generation != null) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("tokens_done", generation.tokensDone());
            p.put("max_tokens", generation.maxTokens());
            p.put("prompt_tokens", generation.promptLength());
            p.put("prefill_done", generation.prefilled());
            m.put("progress", p);
        } else {
            m.put("progress", null);
        }
        if (download != null) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("loaded_bytes", download.loaded);
            d.put("total_bytes", download.total > 0 ? download.total : null);
            m.put("download", d);
        } else {
            m.put("download", null);
        }
        m.put("tokens_per_s", tokensPerS);
        m.put("busy_fraction", Math.round(duty.busyFraction(nowMs) * 1000) / 1000.0);
        m.put("cpu_share", duty.share());
        m.put("paused_reason", stopped ? null : pausedReason());
        m.put("gpu_available", gpuAvailable);
        m.put("engine_notes", engineNotes.isEmpty() ? null : engineNotes);
        m.put("session_download_bytes", sessionDownloadBytes);
        m.put("wallet_linked", walletLinked);
        m.put("link_error", linkError);
        host.postStatus(Json.write(m));
    }
}
