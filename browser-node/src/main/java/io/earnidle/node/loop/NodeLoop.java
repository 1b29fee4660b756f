package io.earnidle.node.loop;

import io.earnidle.node.engine.Engine;
import io.earnidle.node.llama.GenerationResult;

import java.util.Map;

/**
 * The node's control loop, written against {@link NodeHost} callbacks: register and poll with backoff + jitter
 * ({@link BackendApi}), get the job's model ({@link ModelFetcher}: persistent cache or a throttled, resumable,
 * verified download), load it into the best engine the platform has ({@link EngineCache}: WebGPU when limits.gpu
 * allows it, else WASM SIMD, else the pure-Java engine), generate step by step under the CPU share
 * ({@link JobRunner}), keep the job's lease with progress heartbeats and report a job it gives up
 * ({@link LeaseKeeper}), submit with an Idempotency-Key (same key on retries), and report status
 * ({@link StatusReporter}, with the engine's name). This class holds the {@link NodeState} and decides what comes
 * next; the parts do the work and call back.
 *
 * <p>Once an accelerated engine owns the model's bytes (kernel memory, GPU buffers), the loop keeps no Java copy: a
 * later job for the same model reuses the engine; anything else (another model, the GPU switched off under a WebGPU
 * engine, a lower memory limit) drops it and reloads from the persistent cache or the network.
 *
 * <p>Single-threaded: every method runs on the host's event loop, and long work is cut into short slices with a
 * yield between them, so pause/stop/limits messages are handled within a slice (milliseconds). A job that cannot
 * finish within {@link #FINISH_WITHIN_MS} of a pause or stop is cancelled and never submitted (it is reported as
 * cancelled, so the backend hands it out again at once); one that can is finished and submitted first.
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
    public static final String CACHE_PATH = "/earnidle-model-cache/";

    private final NodeHost host;
    private final NodeLimits limits;
    private final DutyCycle duty;
    private final Epoch epoch = new Epoch();
    private final BackendApi api;
    private final ModelFetcher fetcher;
    private final EngineCache engines;
    private final JobRunner runner;
    private final StatusReporter reporter;
    private final LeaseKeeper keeper;
    private final ModelReports reports;
    private Backoff backoff;

    private NodeState state = NodeState.REGISTERING;
    private String message;
    private boolean visitorPaused;
    private boolean hidden;
    private boolean onBattery;
    private boolean stopped;
    private boolean started;
    /** Something is in flight (a request, a download, a job): when it ends, {@link #afterIdle} decides what next. */
    private boolean busy;
    private int pollGeneration;
    /** The job being worked on, and whether it is finishing before a halt or being submitted. */
    private JobSpec job;
    private boolean finishing;
    private boolean submitting;

    public NodeLoop(NodeHost host, String apiBase, String placementId, Object capabilities, Object limits) {
        this(host, apiBase, placementId, capabilities, limits, null);
    }

    public NodeLoop(NodeHost host, String apiBase, String placementId, Object capabilities, Object limits,
                    String walletToken) {
        this.host = host;
        String base = apiBase.endsWith("/") ? apiBase.substring(0, apiBase.length() - 1) : apiBase;
        this.limits = NodeLimits.of(limits);
        this.duty = new DutyCycle(this.limits.cpuShare());
        this.backoff = new Backoff(1000, MAX_BACKOFF_MS, host.randomSeed());
        this.api = new BackendApi(host, base, placementId, capabilities, walletToken);
        this.fetcher = new ModelFetcher(host, base, this.limits, duty, epoch, () -> backoff.nextDelayMs(),
                new ModelEvents());
        this.engines = new EngineCache(host, this.limits, epoch);
        this.runner = new JobRunner(host, duty, epoch, new RunnerEvents());
        this.reporter = new StatusReporter(host, api, fetcher, engines, runner, duty);
        this.keeper = new LeaseKeeper(api, this::leaseLost);
        this.reports = new ModelReports(host, base);
    }

    /** Builds a loop from the worker's start message ({@code {type:"start", apiBase, placementId, ...}}). */
    public static NodeLoop fromStartMessage(NodeHost host, String json) {
        Map<String, Object> m = Json.obj(Json.parse(json), "start message");
        return new NodeLoop(host, Json.str(m, "apiBase"), Json.str(m, "placementId"), m.get("capabilities"),
                m.get("limits"), Json.optStr(m, "walletToken"));
    }

    /** The persistent-cache key of a model file: one entry per model id and content hash. */
    public static String cacheKey(String apiBase, String modelId, String sha256) {
        return ModelFetcher.cacheKey(apiBase, modelId, sha256);
    }

    /** The state as the status names it ("idle", "running", ...). */
    public String state() {
        return state.wire();
    }

    public long jobsCompleted() {
        return api.jobsCompleted();
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

    /**
     * The engine of the running job, else of the model in memory, else the last one used, else (no model loaded
     * yet) the platform's pure-Java engine.
     */
    public String engineName() {
        Engine running = runner.engine();
        if (running != null) {
            return running.name();
        }
        String name = engines.engineName();
        return name != null ? name : host.engine();
    }

    // ---- control messages -------------------------------------------------------------------------------------

    public void start() {
        if (started) {
            return;
        }
        started = true;
        engines.maybeProbeGpu(stopped);
        if (halted()) {
            status(stopped ? NodeState.STOPPED : NodeState.PAUSED, null);
            return;
        }
        status(NodeState.REGISTERING, null);
        busy = true;
        reports.listCache(() -> { // the model files it holds go with the registration
            busy = false;
            afterIdle(null);
        });
    }

    /** Handles a control message from the page (JSON text, {@link ControlMessage}). */
    public void control(String json) {
        String ignored = ControlMessage.apply(json, this);
        if (ignored != null) {
            status(state, ignored);
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
        api.linkWallet(token, msg -> status(state, msg));
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
            // never use the GPU the visitor turned off; a model on it is reloaded (from the persistent cache) into a
            // CPU engine for the next job
            if (engines.onGpu() && runner.running()) {
                String id = job.jobId();
                giveUp("cancelled", "the GPU was switched off");
                cancelWork();
                engines.gpuSwitchedOff();
                afterIdle("the GPU was switched off: job " + id + " cancelled, not submitted");
            } else {
                engines.gpuSwitchedOff();
            }
        }
        engines.maybeProbeGpu(stopped);
        if (!runner.running()) {
            engines.dropIfOver(limits.memoryBytes());
        }
        reconsider();
        if (!halted()) {
            status(state, message);
        }
    }

    /** Applies the pause/stop flags to whatever is in flight, or restarts work when nothing stops it any more. */
    private void reconsider() {
        if (!started) {
            return;
        }
        if (halted()) {
            pollGeneration++;
            if (runner.running()) {
                if (finishing) {
                    return;
                }
                if (runner.canFinishWithin(FINISH_WITHIN_MS)) {
                    finishing = true; // the job ends (and is submitted) before the node halts
                    status(NodeState.RUNNING, "finishing job " + job.jobId() + " first");
                } else {
                    String id = job.jobId();
                    giveUp("cancelled", "the node was paused or stopped");
                    cancelWork();
                    afterIdle("job " + id + " cancelled, not submitted");
                }
            } else if (submitting) {
                // a submission is atomic on the backend: let the request in flight end, then halt (no retries)
                status(NodeState.SUBMITTING, "halting after this submission");
            } else if (busy) {
                // looking in the cache, downloading, verifying, registering or polling: drop it (a leased job is
                // given back; a partial download is kept to resume)
                String what = job != null ? "job " + job.jobId() + " cancelled before it ran" : null;
                if (fetcher.partialBytes() > 0 && job != null) {
                    what = "download paused at " + fetcher.partialBytes() + " bytes; " + what;
                }
                giveUp("cancelled", "the node was paused or stopped before the job ran");
                cancelWork();
                afterIdle(what);
            } else {
                afterIdle(null);
            }
            return;
        }
        if (!busy && state == NodeState.PAUSED) {
            afterIdle(null); // register or poll again
        }
    }

    /** Tells the backend that the job in hand (if any) is given up, so it goes to another node at once. */
    private void giveUp(String reason, String detail) {
        keeper.giveUp(job, reason, detail);
    }

    /** The backend refused a heartbeat: the job's lease is gone (or the session), so its result would be refused. */
    private void leaseLost(JobSpec lost, String why, boolean sessionGone) {
        if (job != lost || submitting) {
            return;
        }
        cancelWork();
        if (sessionGone) {
            api.forgetSession();
        }
        afterIdle("job " + lost.jobId() + " dropped: " + why);
    }

    /** Abandons whatever is in flight (callbacks of the current epoch become no-ops). */
    private void cancelWork() {
        keeper.end();
        epoch.bump();
        fetcher.cancel();
        runner.cancel();
        finishing = false;
        job = null;
        busy = false;
        duty.idle();
    }

    // ---- register and poll ------------------------------------------------------------------------------------

    private void register() {
        busy = true;
        api.register(limits.raw(), limits.gpu(), reports.held(), epoch, epoch.current(), (error, walletRefused) -> {
            busy = false;
            if (error != null) {
                status(NodeState.ERROR, error);
                if (halted()) {
                    afterIdle(error);
                } else {
                    long delay = walletRefused ? 0 : backoff.nextDelayMs();
                    int gen = ++pollGeneration;
                    host.schedule(delay, () -> {
                        if (gen == pollGeneration && !halted() && !busy && !api.registered()) {
                            register();
                        }
                    });
                }
                return;
            }
            backoff = new Backoff(api.pollIntervalMs(), MAX_BACKOFF_MS, host.randomSeed());
            api.linkPendingWallet(msg -> status(state, msg));
            api.proveModels(reports, msg -> status(state, msg));
            afterIdle(null);
        });
    }

    /** Called whenever nothing is in flight: decide what comes next. */
    private void afterIdle(String msg) {
        duty.idle();
        if (stopped) {
            engines.drop(); // frees the engine's memory (kernel memory, GPU buffers): a stopped node does not restart
            status(NodeState.STOPPED, msg);
        } else if (pausedReason() != null) {
            status(NodeState.PAUSED, msg);
        } else if (!api.registered()) {
            status(NodeState.REGISTERING, msg);
            register();
        } else {
            status(NodeState.IDLE, msg);
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

    /** Polls again after a backoff, or settles down when halted meanwhile. */
    private void pollLater() {
        if (!halted()) {
            schedulePoll(backoff.nextDelayMs());
        } else {
            afterIdle(null);
        }
    }

    private void poll() {
        busy = true;
        api.refreshPendingIfDue(() -> status(state, message));
        api.pollJob(reports.pollQuery(), epoch, epoch.current(), new BackendApi.Polled() {
            @Override
            public void none() {
                busy = false;
                pollLater();
            }

            @Override
            public void unauthorized() {
                busy = false;
                afterIdle("session no longer valid, registering again");
            }

            @Override
            public void failed(String error) {
                busy = false;
                status(NodeState.ERROR, error);
                pollLater();
            }

            @Override
            public void job(JobSpec j) {
                if (halted()) {
                    busy = false;
                    keeper.giveUp(j, "cancelled", "the node was paused before the job ran");
                    afterIdle("job " + j.jobId() + " given back (not run)");
                    return;
                }
                backoff.reset();
                runJob(j);
            }
        });
    }

    // ---- a job: its model, its generation, its result ---------------------------------------------------------

    private void runJob(JobSpec j) {
        job = j;
        keeper.start(j);
        finishing = false;
        runner.reset();
        if (engines.holds(j)) {
            runner.start(j, engines.engine());
            return;
        }
        engines.drop(); // keep at most one model in memory
        fetcher.fetch(j);
    }

    /** The job is not run (a limit stands in the way): it is given back. */
    private void refuse(String why) {
        String id = job.jobId();
        giveUp("other", why);
        job = null;
        busy = false;
        status(NodeState.ERROR, why + " (job " + id + " given back)");
        if (!halted()) {
            schedulePoll(backoff.nextDelayMs());
        } else {
            afterIdle(why);
        }
    }

    private void submitResult(GenerationResult result, String engineName) {
        submitting = true;
        api.submitResult(job, result, engineName, host.newIdempotencyKey(), epoch, epoch.current(), () -> !halted(),
                () -> backoff.nextDelayMs(),
                attempt -> status(NodeState.SUBMITTING, attempt > 1 ? "retry " + attempt : null),
                this::finishJob);
    }

    /** The job failed: reported with {@code reason} ({@link LeaseKeeper#reason}), so it goes to another node. */
    private void failJob(String error, String reason) {
        giveUp(reason, error);
        finishJob(job == null ? error : "job " + job.jobId() + " failed: " + error);
    }

    private void finishJob(String error) {
        if (error != null) {
            status(NodeState.ERROR, error);
        }
        keeper.end();
        job = null;
        runner.cancel();
        finishing = false;
        submitting = false;
        busy = false;
        backoff.reset();
        afterIdle(null);
    }

    // ---- what the parts report --------------------------------------------------------------------------------

    /** Getting the job's model: fetching it ({@link ModelFetcher}), then loading it ({@link EngineCache}). */
    private final class ModelEvents implements ModelFetcher.Listener, EngineCache.Listener {
        @Override
        public void status(String msg) {
            NodeLoop.this.status(NodeState.DOWNLOADING, msg);
        }

        @Override
        public void progress(String modelId, boolean force) {
            double now = host.nowMs();
            if (force) {
                reporter.sentAt(now);
            }
            if (force || reporter.due(now)) {
                NodeLoop.this.status(NodeState.DOWNLOADING, "model " + modelId);
            }
            keeper.downloading(now);
        }

        @Override
        public void fetched(JobSpec j, byte[] data, String how) {
            reports.holds(j.modelId(), j.modelSha256());
            engines.load(j, data, how, () -> job != null || stopped, this);
        }

        @Override
        public void ready(Engine engine) {
            runner.start(job, engine);
        }

        @Override
        public void failed(String error) {
            failJob(error, LeaseKeeper.reason(error, "download_failed"));
        }

        @Override
        public void refused(String why) {
            refuse(why);
        }
    }

    private final class RunnerEvents implements JobRunner.Listener, LeaseKeeper.Output {
        @Override
        public void started() {
            status(NodeState.RUNNING, null);
            reporter.sentAt(host.nowMs());
        }

        @Override
        public void progress(double nowMs) {
            if (reporter.due(nowMs)) {
                status(NodeState.RUNNING, message, nowMs);
            }
        }

        @Override
        public void stepped(int tokensDone, double nowMs) {
            keeper.tick(tokensDone, nowMs, this);
        }

        @Override
        public int[] ids() {
            return runner.outputSoFar();
        }

        @Override
        public String text() {
            return runner.textSoFar();
        }

        @Override
        public void done(GenerationResult result, String engineName) {
            keeper.end(); // the result renews nothing: it ends the lease
            finishing = false;
            submitResult(result, engineName);
        }

        @Override
        public void failed(String error, Engine engine) {
            if (engine != null) {
                engines.engineFailed(engine);
            }
            failJob(error, LeaseKeeper.reason(error, "engine_error"));
        }

        @Override
        public JobSpec waitingJob() {
            return job;
        }
    }

    // ---- status -----------------------------------------------------------------------------------------------

    static String describe(int code, String text) {
        String t = text == null ? "" : text.length() > 300 ? text.substring(0, 300) + "…" : text;
        return code == 0 ? "network error " + t : "HTTP " + code + " " + t;
    }

    static String message(Throwable e) {
        return e.getMessage() == null ? e.getClass().getName() : e.getMessage();
    }

    private void status(NodeState newState, String msg) {
        status(newState, msg, host.nowMs());
    }

    private void status(NodeState newState, String msg, double nowMs) {
        state = newState;
        message = msg;
        reporter.post(newState, msg, nowMs, job == null ? null : job.jobId(), engineName(),
                stopped ? null : pausedReason());
    }
}
