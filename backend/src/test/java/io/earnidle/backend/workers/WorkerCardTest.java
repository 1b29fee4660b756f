package io.earnidle.backend.workers;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class WorkerCardTest {
    private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

    @Test
    void uptimeIsTheUnionOfTheSessionsSpansInsideTheWindow() {
        Instant h = NOW.minus(Duration.ofHours(24));
        List<Instant[]> spans = List.of(
                new Instant[] {h, h.plus(Duration.ofHours(6))},                                    // 6 h
                new Instant[] {h.plus(Duration.ofHours(3)), h.plus(Duration.ofHours(9))},          // +3 h overlap
                new Instant[] {NOW.minus(Duration.ofDays(40)), NOW.minus(Duration.ofDays(35))}); // outside
        assertEquals(9.0 / 24, WorkerCard.uptime(spans, NOW, Duration.ofDays(1)), 1e-12);
        assertEquals(9.0 / (24 * 7), WorkerCard.uptime(spans, NOW, Duration.ofDays(7)), 1e-12);
        // the 40-to-35-days-ago session lies before the 30-day window too
        assertEquals(9.0 / (24 * 30), WorkerCard.uptime(spans, NOW, Duration.ofDays(30)), 1e-12);
    }

    @Test
    void nearestRankPercentiles() {
        List<Double> v = List.of(1.0, 2.0, 3.0, 4.0, 100.0);
        assertEquals(3.0, WorkerCard.percentile(v, 0.5));
        assertEquals(100.0, WorkerCard.percentile(v, 0.99));
        assertNull(WorkerCard.percentile(List.of(), 0.5));
    }
}
