package io.earnidle.backend.stats;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.reputation.Reputation;
import io.earnidle.backend.reputation.Tier;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/** The network's public statistics, version 1 (schema: docs/stats.md). */
public final class NetworkStats {
    public static final int VERSION = 1;
    /** A session seen this recently is online. */
    static final Duration ONLINE = Duration.ofSeconds(120);
    /** Jobs per minute and tokens per second are averaged over this much recent time. */
    static final Duration RATE_WINDOW = Duration.ofMinutes(10);

    private NetworkStats() {
    }

    public static ObjectNode of(DbExecute exec, Reputation reputation, Instant now) {
        ObjectNode out = Json.object();
        out.put("v", VERSION);
        out.put("generated_at", now.toString());
        out.set("nodes_online", online(exec, reputation, now));

        List<DbRow> recent = Database.list(exec, "st-results-since", ts(now.minus(Duration.ofDays(7))));
        Instant rateStart = now.minus(RATE_WINDOW);
        long jobs = 0;
        long tokens = 0;
        for (DbRow r : recent) {
            if (!Database.instant(r, "created_at").isBefore(rateStart)) {
                jobs++;
                tokens += Database.lng(r, "token_count");
            }
        }
        out.put("jobs_per_minute", jobs / (double) RATE_WINDOW.toMinutes());
        out.put("tokens_per_second", tokens / (double) RATE_WINDOW.toSeconds());

        ObjectNode v = out.putObject("verification_24h");
        for (String status : List.of("passed", "failed", "skipped", "pending")) {
            v.put(status, 0);
        }
        for (DbRow r : Database.list(exec, "st-verification-since", ts(now.minus(Duration.ofDays(1))))) {
            String status = Database.str(r, "verification");
            String key = "redundant".equals(status) ? "pending" : status;
            if (key != null && v.has(key)) {
                v.put(key, v.path(key).asLong() + Database.lng(r, "n"));
            }
        }
        v.put("failed", v.path("failed").asLong()
                + Database.count(exec, "st-rejected-since", ts(now.minus(Duration.ofDays(1)))));

        ObjectNode paid = out.putObject("paid_micro_usdc");
        paid.put("visitors", 0);
        paid.put("publishers", 0);
        for (DbRow r : Database.list(exec, "st-paid")) {
            paid.put("node_session".equals(Database.str(r, "owner_type")) ? "visitors" : "publishers",
                    Database.lng(r, "total"));
        }

        ObjectNode series = out.putObject("series");
        series.set("hourly_24h", buckets(recent, now, ChronoUnit.HOURS, 24));
        series.set("daily_7d", buckets(recent, now, ChronoUnit.DAYS, 7));
        return out;
    }

    private static ObjectNode online(DbExecute exec, Reputation reputation, Instant now) {
        Map<String, Long> byEngine = new TreeMap<>();
        Map<String, Long> byTier = new TreeMap<>();
        for (Tier t : Tier.values()) {
            byTier.put(t.key(), 0L);
        }
        long total = 0;
        for (DbRow s : Database.list(exec, "st-online", ts(now.minus(ONLINE)))) {
            String id = Database.str(s, "id");
            total++;
            String engine = Database.get(exec, "st-last-engine", id).map(r -> Database.str(r, "engine"))
                    .orElse("unknown");
            byEngine.merge(engine, 1L, Long::sum);
            byTier.merge(reputation.ofSession(exec, id).tier().key(), 1L, Long::sum);
        }
        ObjectNode o = Json.object();
        o.put("total", total);
        ObjectNode e = o.putObject("by_engine");
        byEngine.forEach(e::put);
        ObjectNode t = o.putObject("by_tier");
        byTier.forEach(t::put);
        return o;
    }

    /** {@code count} buckets of one {@code unit} each, oldest first, the last ending at {@code now}. */
    static ArrayNode buckets(List<DbRow> results, Instant now, ChronoUnit unit, int count) {
        Duration size = unit.getDuration();
        Instant start = now.minus(size.multipliedBy(count));
        long[] jobs = new long[count];
        long[] tokens = new long[count];
        for (DbRow r : results) {
            Instant at = Database.instant(r, "created_at");
            if (at.isBefore(start) || at.isAfter(now)) {
                continue;
            }
            int i = (int) Math.min(count - 1, Duration.between(start, at).toMillis() / size.toMillis());
            jobs[i]++;
            tokens[i] += Database.lng(r, "token_count");
        }
        ArrayNode out = Json.array();
        for (int i = 0; i < count; i++) {
            ObjectNode b = out.addObject();
            b.put("start", start.plus(size.multipliedBy(i)).toString());
            b.put("jobs", jobs[i]);
            b.put("tokens", tokens[i]);
        }
        return out;
    }
}
