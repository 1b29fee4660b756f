package io.earnidle.backend.openai;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A per-key request limit over a sliding minute, on the backend's clock (one backend instance: each instance counts
 * its own requests).
 */
final class RequestRate {
    private static final Duration WINDOW = Duration.ofMinutes(1);
    private final int perMinute;
    private final Supplier<Instant> clock;
    private final Map<String, ArrayDeque<Instant>> recent = new HashMap<>();

    RequestRate(int perMinute, Supplier<Instant> clock) {
        this.perMinute = perMinute;
        this.clock = clock;
    }

    /**
     * Counts a request of {@code key}; returns 0 when it is within the limit, otherwise the whole seconds until the
     * oldest counted request leaves the window (at least 1; the refused request is not counted).
     */
    synchronized long acquire(String key) {
        if (perMinute == 0) {
            return 0;
        }
        Instant now = clock.get();
        ArrayDeque<Instant> q = recent.computeIfAbsent(key, k -> new ArrayDeque<>());
        while (!q.isEmpty() && !q.peekFirst().plus(WINDOW).isAfter(now)) {
            q.pollFirst();
        }
        if (q.size() >= perMinute) {
            long millis = Duration.between(now, q.peekFirst().plus(WINDOW)).toMillis();
            return Math.max(1, (millis + 999) / 1000);
        }
        q.addLast(now);
        return 0;
    }
}
