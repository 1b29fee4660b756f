package io.earnidle.backend.billing;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Per-key sums over a sliding window, on the backend's clock (one backend instance counts its own). Amounts that come
 * within 1/1440 of the window of each other are kept as one, stamped with the later time (so a key holds at most about
 * 1,440 entries and an amount never leaves the window early).
 */
final class SlidingSum {
    private record Use(Instant at, long amount) {
    }

    private final Duration window;
    private final Duration grain;
    private final Map<String, ArrayDeque<Use>> byKey = new HashMap<>();

    SlidingSum(Duration window) {
        this.window = window;
        this.grain = window.dividedBy(1440);
    }

    /**
     * 0 when {@code amount} added to {@code key}'s sum at {@code now} stays within {@code limit} (0: no limit);
     * otherwise the whole seconds (at least 1) until enough has left the window for it to fit, or the window's length
     * when it never fits alone.
     */
    synchronized long wait(String key, long amount, long limit, Instant now) {
        if (limit <= 0) {
            return 0;
        }
        ArrayDeque<Use> uses = byKey.get(key);
        if (uses == null) {
            return amount > limit ? window.toSeconds() : 0;
        }
        while (!uses.isEmpty() && !uses.peekFirst().at().plus(window).isAfter(now)) {
            uses.pollFirst();
        }
        if (uses.isEmpty()) {
            byKey.remove(key);
        }
        long sum = 0;
        for (Use u : uses) {
            sum += u.amount();
        }
        if (sum + amount <= limit) {
            return 0;
        }
        if (amount <= limit) {
            long freed = 0;
            for (Use u : uses) {
                freed += u.amount();
                if (sum - freed + amount <= limit) {
                    long millis = Duration.between(now, u.at().plus(window)).toMillis();
                    return Math.max(1, (millis + 999) / 1000);
                }
            }
        }
        return window.toSeconds();
    }

    /** Adds {@code amount} to {@code key}'s sum at {@code now}. */
    synchronized void add(String key, long amount, Instant now) {
        ArrayDeque<Use> uses = byKey.computeIfAbsent(key, k -> new ArrayDeque<>());
        Use last = uses.peekLast();
        if (last != null && last.at().plus(grain).isAfter(now)) {
            uses.pollLast();
            uses.addLast(new Use(now, last.amount() + amount));
        } else {
            uses.addLast(new Use(now, amount));
        }
    }
}
