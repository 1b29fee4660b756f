package io.earnidle.backend.workers;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Uptime: overlapping sessions count once, time outside the window not at all. */
class UptimeTest {
    private static final Instant NOW = Instant.parse("2026-01-31T00:00:00Z");

    private static Uptime.Interval hours(long fromHoursAgo, long toHoursAgo) {
        return new Uptime.Interval(NOW.minus(Duration.ofHours(fromHoursAgo)), NOW.minus(Duration.ofHours(toHoursAgo)));
    }

    @Test
    void overlappingSessionsCountOnce() {
        // 10..4 h ago and 6..2 h ago overlap: 8 h covered of a 24 h window
        assertEquals(8.0 / 24, Uptime.fraction(List.of(hours(10, 4), hours(6, 2)), NOW, Duration.ofDays(1)), 1e-12);
    }

    @Test
    void timeBeforeTheWindowIsClipped() {
        // alive from 30 h ago to 20 h ago: only the last 4 h of it fall into the 24 h window
        assertEquals(4.0 / 24, Uptime.fraction(List.of(hours(30, 20)), NOW, Duration.ofDays(1)), 1e-12);
    }

    @Test
    void disjointSessionsAddAndAlwaysAliveIsOne() {
        assertEquals(3.0 / 24, Uptime.fraction(List.of(hours(23, 22), hours(5, 3)), NOW, Duration.ofDays(1)), 1e-12);
        assertEquals(1.0, Uptime.fraction(List.of(hours(48, 0)), NOW, Duration.ofDays(1)));
        assertEquals(0.0, Uptime.fraction(List.of(), NOW, Duration.ofDays(1)));
    }
}
