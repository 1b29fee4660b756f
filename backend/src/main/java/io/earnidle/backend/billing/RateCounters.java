package io.earnidle.backend.billing;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Rate-limit counters: sums per key over sliding windows. {@link MemoryRateCounters} counts in this backend instance
 * (one instance, H2); {@link io.earnidle.backend.cluster.SharedRateCounters} counts in the database, so in cluster mode the instances share one
 * count and N instances allow the limit once, not N times (docs/operations.md "Cluster mode").
 */
public interface RateCounters {
    /**
     * One amount to add to the {@code counter}'s sum for a key if it stays within {@code limit} over the last
     * {@code window}; a limit of 0 or less is no limit.
     */
    record Count(String counter, Duration window, long amount, long limit) {
    }

    /** Why a set of counts was refused: the index of the first count that did not fit, and the whole seconds to wait. */
    record Refusal(int index, long waitSeconds) {
    }

    /**
     * Adds every count's amount to {@code key}'s sums at {@code now} if each fits its limit; otherwise adds nothing and
     * returns the first count that does not fit, with the seconds (at least 1) until enough has left its window for it
     * to fit, or the window's length when it never fits alone.
     */
    Optional<Refusal> admit(String key, List<Count> counts, Instant now);
}
