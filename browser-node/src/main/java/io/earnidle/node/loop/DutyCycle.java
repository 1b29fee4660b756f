package io.earnidle.node.loop;

/**
 * CPU share by duty cycling: after a work slice of {@code b} ms the node owes {@code b × (1 − share) / share} ms of
 * rest; time already spent idle between slices (yields, messages, timer lateness) pays the debt too. {@link #afterSlice}
 * says how long to sleep before the next slice, and {@link #busyFraction} measures busy time over wall time in a
 * sliding window, the number the status reports.
 */
public final class DutyCycle {
    /** Target length of one work slice (a slice is at least one step, so a slow step makes a longer one). */
    public static final double SLICE_MS = 12;
    /** Rest shorter than this is carried over to the next slice instead of becoming a timer (timers are coarse). */
    public static final double MIN_SLEEP_MS = 4;
    /** Idle credit (ms) kept at most, so a long pause does not buy a long burst. */
    static final double MAX_CREDIT_MS = 10;
    public static final double MIN_SHARE = 0.05;
    public static final double WINDOW_MS = 5_000;

    private double share;
    private int parallelism = 1;
    private double owedMs;
    private double lastEndMs = Double.NaN;
    // busy intervals inside the window, as a ring of [start, end)
    private double[] starts = new double[256];
    private double[] ends = new double[256];
    private int head;
    private int count;
    private double firstStartMs = Double.NaN;

    public DutyCycle(double share) {
        setShare(share);
    }

    public static double clampShare(double share) {
        if (!(share > MIN_SHARE)) {
            return MIN_SHARE;
        }
        return Math.min(1.0, share);
    }

    public void setShare(double share) {
        this.share = clampShare(share);
        if (this.share >= 1.0 && parallelism == 1) {
            owedMs = 0;
        }
    }

    public double share() {
        return share;
    }

    /**
     * Threads a slice keeps busy (a multi-threaded engine): the rest owed and {@link #busyFraction} count a slice's
     * time once per thread, so the share stays a share of ONE core.
     */
    public void setParallelism(int threads) {
        parallelism = Math.max(1, threads);
    }

    /**
     * Records a busy slice from {@code startMs} to {@code endMs} and returns the rest in ms to take before the next
     * slice (0: go on at once, after a yield to the event loop).
     */
    public double afterSlice(double startMs, double endMs) {
        double busy = Math.max(0, endMs - startMs);
        record(startMs, endMs);
        if (!Double.isNaN(lastEndMs)) {
            owedMs -= Math.max(0, startMs - lastEndMs);
        }
        lastEndMs = endMs;
        if (share >= 1.0 && parallelism == 1) {
            owedMs = 0;
            return 0;
        }
        double rest = parallelism == 1 ? busy * (1 - share) / share : busy * (parallelism / share - 1);
        owedMs = Math.max(-MAX_CREDIT_MS, owedMs + rest);
        return owedMs >= MIN_SLEEP_MS ? owedMs : 0;
    }

    /** Forgets the rest owed (the node went idle: polling or paused, nothing to throttle). */
    public void idle() {
        owedMs = 0;
        lastEndMs = Double.NaN;
    }

    private void record(double s, double e) {
        if (Double.isNaN(firstStartMs)) {
            firstStartMs = s;
        }
        if (count > 0) {
            int lastIdx = (head + count - 1) % starts.length;
            if (s - ends[lastIdx] < 0.05) { // adjoining: merge so the ring holds long runs cheaply
                ends[lastIdx] = Math.max(ends[lastIdx], e);
                return;
            }
        }
        if (count == starts.length) {
            double[] ns = new double[starts.length * 2];
            double[] ne = new double[ends.length * 2];
            for (int i = 0; i < count; i++) {
                ns[i] = starts[(head + i) % starts.length];
                ne[i] = ends[(head + i) % ends.length];
            }
            starts = ns;
            ends = ne;
            head = 0;
        }
        int idx = (head + count) % starts.length;
        starts[idx] = s;
        ends[idx] = e;
        count++;
    }

    /** Busy time over wall time in the last {@link #WINDOW_MS} (or since the first slice, if that is shorter). */
    public double busyFraction(double nowMs) {
        double from = nowMs - WINDOW_MS;
        while (count > 0 && ends[head] <= from) {
            head = (head + 1) % starts.length;
            count--;
        }
        if (Double.isNaN(firstStartMs)) {
            return 0;
        }
        double windowStart = Math.max(from, firstStartMs);
        double wall = nowMs - windowStart;
        if (wall <= 0) {
            return 0;
        }
        double busy = 0;
        for (int i = 0; i < count; i++) {
            int k = (head + i) % starts.length;
            busy += Math.max(0, Math.min(ends[k], nowMs) - Math.max(starts[k], windowStart));
        }
        return Math.min(1.0, busy * parallelism / wall);
    }
}
