package io.earnidle.backend.cluster;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import io.earnidle.backend.billing.RateCounters;
import io.earnidle.backend.db.Database;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * {@link RateCounters} in PostgreSQL's {@code rate_counts} (V19), shared by every instance of a cluster. A count is
 * kept per slot of 1/1440 of its window and leaves the window a window after its slot ends (never early, as
 * {@link io.earnidle.backend.billing.SlidingSum}); an admission runs in one transaction under a transaction-scoped advisory lock on the key, so
 * two instances cannot both take the last unit. Rows whose window has passed are deleted at most once a minute per
 * instance.
 */
public final class SharedRateCounters implements RateCounters {
    private static final long PURGE_EVERY_MS = 60_000;

    private final Database db;
    private final AtomicLong lastPurgeMs = new AtomicLong();

    public SharedRateCounters(Database db) {
        this.db = db;
    }

    /** The counters a cluster shares ({@code clustered}), or null: a single instance counts in memory. */
    public static RateCounters forCluster(boolean clustered, Database db) {
        return clustered ? new SharedRateCounters(db) : null;
    }

    @Override
    public Optional<Refusal> admit(String key, List<Count> counts, Instant now) {
        if (counts.stream().allMatch(c -> c.limit() <= 0)) {
            return Optional.empty();
        }
        purgeNowAndThen(now);
        return db.inTransaction(tx -> {
            Database.list(tx, "rate-counts-lock", key);
            for (int i = 0; i < counts.size(); i++) {
                long wait = waitSeconds(tx, key, counts.get(i), now);
                if (wait > 0) {
                    return Optional.of(new Refusal(i, wait));
                }
            }
            for (Count c : counts) {
                if (c.limit() > 0) {
                    long grain = grainMs(c.window());
                    long slot = Math.floorDiv(now.toEpochMilli(), grain) * grain;
                    tx.namedInsert("rate-counts-add", c.counter(), key, slot, c.amount(),
                            ts(Instant.ofEpochMilli(slot + grain).plus(c.window())));
                }
            }
            return Optional.empty();
        });
    }

    /** As {@link SlidingSum#wait}, over the slots still in the window. */
    private static long waitSeconds(DbExecute tx, String key, Count c, Instant now) {
        if (c.limit() <= 0) {
            return 0;
        }
        long grain = grainMs(c.window());
        long windowMs = c.window().toMillis();
        long nowMs = now.toEpochMilli();
        List<DbRow> slots = Database.list(tx, "rate-counts-in-window", c.counter(), key, nowMs - windowMs - grain);
        long sum = 0;
        for (DbRow r : slots) {
            sum += Database.lng(r, "amount");
        }
        if (sum + c.amount() <= c.limit()) {
            return 0;
        }
        if (c.amount() <= c.limit()) {
            long freed = 0;
            for (DbRow r : slots) {
                freed += Database.lng(r, "amount");
                if (sum - freed + c.amount() <= c.limit()) {
                    long leavesMs = Database.lng(r, "slot") + grain + windowMs;
                    return Math.max(1, (leavesMs - nowMs + 999) / 1000);
                }
            }
        }
        return c.window().toSeconds();
    }

    private static long grainMs(Duration window) {
        return Math.max(1, window.toMillis() / 1440);
    }

    private void purgeNowAndThen(Instant now) {
        long last = lastPurgeMs.get();
        long nowMs = now.toEpochMilli();
        if (nowMs - last >= PURGE_EVERY_MS && lastPurgeMs.compareAndSet(last, nowMs)) {
            db.execute().namedDelete("rate-counts-purge", ts(now));
        }
    }
}
