package io.earnidle.node.loop;

import java.util.Locale;

/**
 * Keeps the lease of the job in hand (docs/protocol.md, {@code /api/inference/progress} and {@code /failure}): while
 * the model downloads and the job generates it sends a progress heartbeat — the tokens done, their ids and the text
 * so far — every {@link #EVERY_TOKENS} tokens or {@link #EVERY_MS} ms, whichever comes first, at most one at a time;
 * the backend renews the lease by the time the remaining tokens need. A heartbeat answered 409 (the lease is no
 * longer this session's: it expired and the job went to another node) or 401 (the session is unknown) tells the loop
 * to drop the job, whose result would be refused. A job the node gives up (out of memory, an engine error, a failed
 * download, a limit in the way, a pause or stop) is reported at once, so it goes to another node instead of waiting
 * out its lease.
 */
final class LeaseKeeper {
    /** A heartbeat is sent after this many new tokens... */
    static final int EVERY_TOKENS = 16;
    /** ...or this long after the last one, whichever comes first. */
    static final double EVERY_MS = 5_000;

    /** What the loop hears from the keeper. */
    interface Lost {
        /** The backend says {@code job}'s lease is gone ({@code sessionGone}: the session itself is unknown). */
        void leaseLost(JobSpec job, String why, boolean sessionGone);
    }

    /** The output so far, read only when a heartbeat is sent. */
    interface Output {
        int[] ids();

        String text();
    }

    private static final Output NONE = new Output() {
        @Override
        public int[] ids() {
            return new int[0];
        }

        @Override
        public String text() {
            return "";
        }
    };

    private final BackendApi api;
    private final Lost lost;
    private JobSpec job;
    private double lastMs;
    private int lastTokens;
    private boolean inFlight;
    private long heartbeats;

    LeaseKeeper(BackendApi api, Lost lost) {
        this.api = api;
        this.lost = lost;
    }

    /** A job was leased: its heartbeats start with the first tick. */
    void start(JobSpec j) {
        job = j;
        lastMs = Double.NaN;
        lastTokens = 0;
        inFlight = false;
    }

    /** The job is done with (submitted, dropped or reported): no more heartbeats, answers to earlier ones ignored. */
    void end() {
        job = null;
    }

    /** Heartbeats sent so far (all jobs). */
    long heartbeats() {
        return heartbeats;
    }

    /** The download went on at {@code nowMs} (no tokens yet). */
    void downloading(double nowMs) {
        tick(0, nowMs, NONE);
    }

    /** A generation step ended at {@code nowMs} with {@code tokensDone} tokens: a heartbeat if one is due. */
    void tick(int tokensDone, double nowMs, Output output) {
        if (job == null || inFlight) {
            return;
        }
        if (Double.isNaN(lastMs)) {
            lastMs = nowMs;
        }
        if (tokensDone - lastTokens < EVERY_TOKENS && nowMs - lastMs < EVERY_MS) {
            return;
        }
        JobSpec j = job;
        lastMs = nowMs;
        lastTokens = tokensDone;
        inFlight = true;
        heartbeats++;
        api.progress(j, output.ids(), output.text(), (code, text) -> {
            if (job != j) {
                return;
            }
            inFlight = false;
            if (code == 409 || code == 401) {
                job = null;
                lost.leaseLost(j, "the backend refused its heartbeat: " + NodeLoop.describe(code, text), code == 401);
            }
            // other answers (network errors, 5xx) leave the lease to the next heartbeat
        });
    }

    /** The node gives {@code j} up: reported with {@code reason} (a backend failure reason) and {@code detail}. */
    void giveUp(JobSpec j, String reason, String detail) {
        if (j == null) {
            return;
        }
        if (job == j) {
            job = null;
        }
        api.reportFailure(j, reason, detail);
    }

    /** The failure reason of an engine's or a download's error message: out_of_memory when it says so. */
    static String reason(String error, String otherwise) {
        String e = error == null ? "" : error.toLowerCase(Locale.ROOT);
        boolean oom = e.contains("out of memory") || e.contains("outofmemory")
                || (e.contains("memory") && (e.contains("alloc") || e.contains("grow") || e.contains("exceed")));
        return oom ? "out_of_memory" : otherwise;
    }
}
