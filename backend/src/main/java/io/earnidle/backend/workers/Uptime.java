package io.earnidle.backend.workers;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Uptime of a worker over a window ending now: the fraction of the window covered by at least one of its node
 * sessions being alive, a session being alive from its registration to the last time it was seen (a poll, a
 * heartbeat or a result). Overlapping sessions count once.
 */
public final class Uptime {
    /** One session's alive interval. */
    public record Interval(Instant from, Instant to) {
    }

    private Uptime() {
    }

    /** The covered fraction of {@code [now - window, now]}, 0 to 1. */
    public static double fraction(List<Interval> sessions, Instant now, Duration window) {
        Instant start = now.minus(window);
        List<Interval> clipped = new ArrayList<>();
        for (Interval s : sessions) {
            Instant from = s.from().isBefore(start) ? start : s.from();
            Instant to = s.to().isAfter(now) ? now : s.to();
            if (to.isAfter(from)) {
                clipped.add(new Interval(from, to));
            }
        }
        clipped.sort(Comparator.comparing(Interval::from));
        long coveredMs = 0;
        Instant runFrom = null;
        Instant runTo = null;
        for (Interval i : clipped) {
            if (runTo == null || i.from().isAfter(runTo)) {
                if (runTo != null) {
                    coveredMs += Duration.between(runFrom, runTo).toMillis();
                }
                runFrom = i.from();
                runTo = i.to();
            } else if (i.to().isAfter(runTo)) {
                runTo = i.to();
            }
        }
        if (runTo != null) {
            coveredMs += Duration.between(runFrom, runTo).toMillis();
        }
        return Math.min(1.0, (double) coveredMs / window.toMillis());
    }
}
