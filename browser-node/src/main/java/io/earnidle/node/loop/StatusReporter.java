package io.earnidle.node.loop;

import java.util.List;
import java.util.Map;
import java.util.LinkedHashMap;

/**
 * Posts the status message the page shows and the widget relays: the state, the session and its earnings, the job's
 * progress, the download, the engine and its speed, the CPU share held, why the node is paused. Running and
 * downloading statuses are sent at most every {@link NodeLoop#STATUS_EVERY_MS} ({@link #due}).
 */
final class StatusReporter {
    private final NodeHost host;
    private final BackendApi api;
    private final ModelFetcher fetcher;
    private final EngineCache engines;
    private final JobRunner runner;
    private final DutyCycle duty;
    private double lastSentMs = Double.NEGATIVE_INFINITY;

    StatusReporter(NodeHost host, BackendApi api, ModelFetcher fetcher, EngineCache engines, JobRunner runner,
                   DutyCycle duty) {
        this.host = host;
        this.api = api;
        this.fetcher = fetcher;
        this.engines = engines;
        this.runner = runner;
        this.duty = duty;
    }

    /** Whether a throttled status may be sent at {@code nowMs}; if so, it counts as sent then. */
    boolean due(double nowMs) {
        if (nowMs - lastSentMs >= NodeLoop.STATUS_EVERY_MS) {
            lastSentMs = nowMs;
            return true;
        }
        return false;
    }

    /** Counts {@code nowMs} as the time of the last throttled status. */
    void sentAt(double nowMs) {
        lastSentMs = nowMs;
    }

    void post(NodeState state, String msg, double nowMs, String jobId, String engineName, String pausedReason) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "status");
        m.put("state", state.wire());
        m.put("session_id", api.sessionId());
        api.putCounters(m);
        m.put("engine", engineName);
        m.put("job_id", jobId);
        m.put("message", msg);
        m.put("progress", runner.progress());
        m.put("download", fetcher.downloadStatus());
        m.put("tokens_per_s", runner.tokensPerS());
        m.put("busy_fraction", Math.round(duty.busyFraction(nowMs) * 1000) / 1000.0);
        m.put("cpu_share", duty.share());
        m.put("paused_reason", pausedReason);
        m.put("gpu_available", engines.gpuAvailable());
        List<String> notes = engines.notes();
        m.put("engine_notes", notes.isEmpty() ? null : notes);
        m.put("session_download_bytes", fetcher.sessionDownloadBytes());
        m.put("wallet_linked", api.walletLinked());
        m.put("link_error", api.linkError());
        host.postStatus(Json.write(m));
    }
}
