package io.earnidle.backend.stats;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.reputation.Reputation;
import io.earnidle.backend.reputation.Tier;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * The public network statistics, {@code GET /api/stats} (schema: docs/stats.md): nodes online by engine and tier,
 * jobs per minute, tokens per second, verification outcomes, totals paid to visitors and publishers, and series over
 * the last 24 hours (hourly) and 7 days (6-hourly) for the stats page's charts. Aggregates only: no session, wallet
 * or customer is named.
 */
public final class NetworkStats {
    /** The document's format version; a change that removes or renames a field bumps it. */
    public static final int VERSION = 1;

    /** A chart series: its length and bucket size. */
    record Range(String name, Duration length, Duration bucket) {
    }

    static final List<Range> RANGES = List.of(new Range("24h", Duration.ofHours(24), Duration.ofHours(1)),
            new Range("7d", Duration.ofDays(7), Duration.ofHours(6)));

    private final StatsSettings settings;
    private final Database db;
    private final Ledger ledger;
    private final Reputation reputation;

    public NetworkStats(StatsSettings settings, Database db, Ledger ledger, Reputation reputation) {
        this.settings = settings;
        this.db = db;
        this.ledger = ledger;
        this.reputation = reputation;
    }

    /** The statistics document as of the ledger clock's now. */
    public ObjectNode snapshot() {
        Instant now = ledger.now();
        return db.inTransaction(tx -> {
            ObjectNode o = Json.object();
            o.put("version", VERSION);
            o.put("generated_at", now.toString());
            o.set("nodes_online", nodesOnline(tx, now));

            Instant rateFrom = now.minusSeconds(settings.rateWindowSeconds());
            DbRow rate = Database.get(tx, "st-results-since", ts(rateFrom)).orElseThrow();
            o.put("rate_window_seconds", settings.rateWindowSeconds());
            o.put("jobs_per_minute", round3(Database.lng(rate, "n") * 60.0 / settings.rateWindowSeconds()));
            o.put("tokens_per_second", round3(Database.lng(rate, "tokens") / (double) settings.rateWindowSeconds()));

            ObjectNode ver = o.putObject("verification");
            long passed = 0;
            long pending = 0;
            long notSampled = 0;
            for (DbRow r : Database.list(tx, "st-verifications")) {
                String v = Database.str(r, "verification");
                long n = Database.lng(r, "n");
                switch (v) {
                    case "passed" -> passed += n;
                    case "skipped" -> notSampled += n;
                    case "pending", "redundant" -> pending += n;
                    default -> { } // 'failed' jobs: their failed results are counted below, one by one
                }
            }
            ver.put("passed", passed);
            ver.put("failed", Database.count(tx, "st-rejected"));
            ver.put("pending", pending);
            ver.put("not_sampled", notSampled);

            ObjectNode paid = o.putObject("paid_micro_usdc");
            Map<String, Long> totals = paidByOwner(Database.list(tx, "st-paid"));
            paid.put("visitors", totals.getOrDefault("node_session", 0L));
            paid.put("publishers", totals.getOrDefault("publisher", 0L));
            paid.put("platform", totals.getOrDefault("platform", 0L));

            ObjectNode series = o.putObject("series");
            for (Range range : RANGES) {
                series.set(range.name(), series(tx, range, now));
            }
            return o;
        });
    }

    private ObjectNode nodesOnline(DbExecute tx, Instant now) {
        ObjectNode online = Json.object();
        online.put("window_seconds", settings.onlineSeconds());
        Map<String, Long> byEngine = new TreeMap<>();
        Map<String, Long> byTier = new TreeMap<>();
        for (Tier t : Tier.values()) {
            byTier.put(t.key(), 0L);
        }
        List<DbRow> rows = Database.list(tx, "st-online", ts(now.minusSeconds(settings.onlineSeconds())));
        for (DbRow r : rows) {
            String engines = Database.str(r, "reported_engines");
            JsonNode list = engines == null ? null : Json.parse(engines);
            if (list == null || !list.isArray() || list.isEmpty()) {
                byEngine.merge("unknown", 1L, Long::sum);
            } else {
                list.forEach(e -> byEngine.merge(e.asText(), 1L, Long::sum));
            }
            byTier.merge(reputation.ofSession(tx, Database.str(r, "id")).tier().key(), 1L, Long::sum);
        }
        online.put("total", rows.size());
        ObjectNode e = online.putObject("by_engine");
        byEngine.forEach(e::put);
        ObjectNode t = online.putObject("by_tier");
        byTier.forEach(t::put);
        return online;
    }

    private static ObjectNode series(DbExecute tx, Range range, Instant now) {
        long bucketS = range.bucket().toSeconds();
        int count = (int) (range.length().toSeconds() / bucketS);
        // the buckets end at the first whole second after now (so that now itself is in the last one): bucket i
        // covers [start + i * bucket, start + (i + 1) * bucket)
        long start = now.getEpochSecond() + 1 - count * bucketS;
        long[] jobs = new long[count];
        long[] tokens = new long[count];
        long[] visitors = new long[count];
        long[] publishers = new long[count];
        Object from = ts(Instant.ofEpochSecond(start));
        for (DbRow r : Database.list(tx, "st-results-series", from)) {
            int b = bucket(Database.instant(r, "created_at"), start, bucketS);
            if (b >= 0 && b < count) {
                jobs[b]++;
                tokens[b] += Database.lng(r, "token_count");
            }
        }
        for (DbRow r : Database.list(tx, "st-paid-series", from)) {
            int b = bucket(Database.instant(r, "created_at"), start, bucketS);
            if (b >= 0 && b < count) {
                long amount = Database.lng(r, "amount_micro_usdc");
                if ("publisher".equals(Database.str(r, "owner_type"))) {
                    publishers[b] += amount;
                } else {
                    visitors[b] += amount;
                }
            }
        }
        ObjectNode s = Json.object();
        s.put("bucket_seconds", bucketS);
        ArrayNode buckets = s.putArray("buckets");
        for (int i = 0; i < count; i++) {
            ObjectNode b = buckets.addObject();
            b.put("start", Instant.ofEpochSecond(start + i * bucketS).toString());
            b.put("jobs", jobs[i]);
            b.put("tokens", tokens[i]);
            b.put("paid_visitors_micro_usdc", visitors[i]);
            b.put("paid_publishers_micro_usdc", publishers[i]);
        }
        return s;
    }

    private static int bucket(Instant at, long startEpochSecond, long bucketSeconds) {
        return (int) Math.floorDiv(at.getEpochSecond() - startEpochSecond, bucketSeconds);
    }

    private static Map<String, Long> paidByOwner(List<DbRow> rows) {
        Map<String, Long> totals = new TreeMap<>();
        rows.forEach(r -> totals.merge(Database.str(r, "owner_type"), Database.lng(r, "total"), Long::sum));
        return totals;
    }

    private static double round3(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
