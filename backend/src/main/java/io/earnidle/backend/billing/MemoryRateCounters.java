package io.earnidle.backend.billing;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@link RateCounters} in this instance's memory: one {@link SlidingSum} per counter. */
public final class MemoryRateCounters implements RateCounters {
    private final Map<String, SlidingSum> sums = new HashMap<>();

    @Override
    public synchronized Optional<Refusal> admit(String key, List<Count> counts, Instant now) {
        for (int i = 0; i < counts.size(); i++) {
            Count c = counts.get(i);
            long wait = sum(c).wait(key, c.amount(), c.limit(), now);
            if (wait > 0) {
                return Optional.of(new Refusal(i, wait));
            }
        }
        for (Count c : counts) {
            sum(c).add(key, c.amount(), now);
        }
        return Optional.empty();
    }

    private SlidingSum sum(Count c) {
        return sums.computeIfAbsent(c.counter(), k -> new SlidingSum(c.window()));
    }
}
