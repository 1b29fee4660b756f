package io.earnidle.node.loop;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The visitor's limits (the {@code limits} of the start message, updated by {@code {type:"limits"}} messages):
 * a field present in an update replaces the current value, {@code null} removes a numeric limit, an absent field
 * keeps its value. Numbers out of range are clamped; a wrong type is rejected as a whole update.
 */
public final class NodeLimits {
    public static final double DEFAULT_CPU_SHARE = 0.5;

    private final Map<String, Object> raw = new LinkedHashMap<>();
    private double cpuShare = DEFAULT_CPU_SHARE;
    private boolean gpu;
    private long memoryMb = -1;
    private long bandwidthKbps = -1;
    private long bandwidthMbPerSession = -1;
    private boolean onlyWhenVisible;
    private boolean pauseOnBattery;

    public NodeLimits() {
    }

    public static NodeLimits of(Object limits) {
        NodeLimits l = new NodeLimits();
        l.update(limits);
        return l;
    }

    /** Applies an update (a JSON object as parsed by {@link Json}); nothing changes when it is invalid. */
    public void update(Object limits) {
        if (limits == null) {
            return;
        }
        Map<String, Object> m = Json.obj(limits, "limits");
        NodeLimits next = copy();
        for (Map.Entry<String, Object> e : m.entrySet()) {
            String k = e.getKey();
            Object v = e.getValue();
            switch (k) {
                case "cpu_share" -> next.cpuShare = v == null ? DEFAULT_CPU_SHARE : DutyCycle.clampShare(number(k, v));
                case "gpu" -> next.gpu = bool(k, v);
                case "memory_mb" -> next.memoryMb = positive(k, v);
                case "bandwidth_kbps" -> next.bandwidthKbps = positive(k, v);
                case "bandwidth_mb_per_session" -> next.bandwidthMbPerSession = positive(k, v);
                case "only_when_visible" -> next.onlyWhenVisible = bool(k, v);
                case "pause_on_battery" -> next.pauseOnBattery = bool(k, v);
                default -> {
                    // unknown limits are kept (and sent at registration) but not enforced here
                }
            }
            next.raw.put(k, v);
        }
        cpuShare = next.cpuShare;
        gpu = next.gpu;
        memoryMb = next.memoryMb;
        bandwidthKbps = next.bandwidthKbps;
        bandwidthMbPerSession = next.bandwidthMbPerSession;
        onlyWhenVisible = next.onlyWhenVisible;
        pauseOnBattery = next.pauseOnBattery;
        raw.clear();
        raw.putAll(next.raw);
    }

    private NodeLimits copy() {
        NodeLimits c = new NodeLimits();
        c.raw.putAll(raw);
        c.cpuShare = cpuShare;
        c.gpu = gpu;
        c.memoryMb = memoryMb;
        c.bandwidthKbps = bandwidthKbps;
        c.bandwidthMbPerSession = bandwidthMbPerSession;
        c.onlyWhenVisible = onlyWhenVisible;
        c.pauseOnBattery = pauseOnBattery;
        return c;
    }

    private static double number(String k, Object v) {
        if (!(v instanceof Double d) || d.isNaN() || d.isInfinite()) {
            throw new IllegalArgumentException("limits." + k + " must be a number");
        }
        return d;
    }

    private static boolean bool(String k, Object v) {
        if (v == null) {
            return false;
        }
        if (!(v instanceof Boolean b)) {
            throw new IllegalArgumentException("limits." + k + " must be true or false");
        }
        return b;
    }

    /** A limit of at least 1, or -1 (no limit) for null. */
    private static long positive(String k, Object v) {
        if (v == null) {
            return -1;
        }
        double d = number(k, v);
        if (d < 1) {
            throw new IllegalArgumentException("limits." + k + " must be at least 1, got " + d);
        }
        return (long) Math.min(d, 9.007199254740992E15);
    }

    /** The limits as last given (for registration), a copy. */
    public Map<String, Object> raw() {
        return new LinkedHashMap<>(raw);
    }

    public double cpuShare() {
        return cpuShare;
    }

    public boolean gpu() {
        return gpu;
    }

    /** Memory limit in bytes, or -1. */
    public long memoryBytes() {
        return memoryMb < 0 ? -1 : memoryMb * 1_048_576L;
    }

    public long memoryMb() {
        return memoryMb;
    }

    /** Download rate limit in bytes per millisecond (kbit/s ÷ 8), or -1. */
    public double bytesPerMs() {
        return bandwidthKbps < 0 ? -1 : bandwidthKbps / 8.0;
    }

    public long bandwidthKbps() {
        return bandwidthKbps;
    }

    /** Bytes this session may download in all, or -1. */
    public long sessionBytes() {
        return bandwidthMbPerSession < 0 ? -1 : bandwidthMbPerSession * 1_048_576L;
    }

    public long bandwidthMbPerSession() {
        return bandwidthMbPerSession;
    }

    public boolean onlyWhenVisible() {
        return onlyWhenVisible;
    }

    public boolean pauseOnBattery() {
        return pauseOnBattery;
    }
}
