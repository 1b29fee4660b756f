package io.earnidle.backend.customers;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

/**
 * A customer's usage over the last {@value #DAYS} days (UTC): its served jobs with their spend (the net of the
 * ledger entries of the job on the customer's account, so it follows whatever the job was charged and refunded),
 * completion tokens and latency (submission to accepted result), totalled, by model, by API key and by day, with
 * p50 and p99 latency (nearest rank).
 */
final class Usage {
    static final int DAYS = 30;

    /** One served job. */
    record Job(String model, String keyId, LocalDate day, long spend, long tokens, long latencyMs) {
    }

    private Usage() {
    }

    static ObjectNode of(DbExecute exec, String customerId, Instant now) {
        LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
        Instant since = today.minusDays(DAYS - 1).atStartOfDay(ZoneOffset.UTC).toInstant();
        List<Job> jobs = new ArrayList<>();
        for (DbRow r : Database.list(exec, "customer-usage-jobs", Ledger.accountId("customer", customerId),
                customerId, Database.ts(since))) {
            Instant created = Database.instant(r, "created_at");
            jobs.add(new Job(Database.str(r, "model_id"), Database.str(r, "api_key_id"),
                    LocalDate.ofInstant(created, ZoneOffset.UTC), -Database.lng(r, "net"),
                    Database.lng(r, "token_count"),
                    Math.max(0, Database.instant(r, "result_at").toEpochMilli() - created.toEpochMilli())));
        }
        ObjectNode o = Json.object();
        o.put("since", since.toString());
        o.put("days", DAYS);
        o.set("totals", stats(Json.object(), jobs));
        o.set("by_model", grouped(jobs, Job::model, "model", Map.of()));
        Map<String, DbRow> keys = new LinkedHashMap<>();
        for (DbRow k : ApiKeys.list(exec, customerId)) {
            keys.put(Database.str(k, "id"), k);
        }
        o.set("by_key", grouped(jobs, j -> j.keyId() == null ? "" : j.keyId(), "key_id", keys));
        Map<LocalDate, List<Job>> byDay = new TreeMap<>();
        for (int i = DAYS - 1; i >= 0; i--) {
            byDay.put(today.minusDays(i), new ArrayList<>());
        }
        jobs.forEach(j -> byDay.computeIfAbsent(j.day(), d -> new ArrayList<>()).add(j));
        ArrayNode days = o.putArray("by_day");
        byDay.forEach((day, list) -> days.add(stats(Json.object().put("day", day.toString()), list)));
        o.put("updated_at", now.toString());
        return o;
    }

    private static ArrayNode grouped(List<Job> jobs, Function<Job, String> key, String field,
                                     Map<String, DbRow> keys) {
        Map<String, List<Job>> groups = new TreeMap<>();
        jobs.forEach(j -> groups.computeIfAbsent(key.apply(j), k -> new ArrayList<>()).add(j));
        ArrayNode out = Json.array();
        groups.forEach((k, list) -> {
            ObjectNode g = Json.object().put(field, k.isEmpty() ? null : k);
            DbRow apiKey = keys.get(k);
            if (apiKey != null) {
                g.put("name", Database.str(apiKey, "name")).put("prefix", Database.str(apiKey, "prefix"));
            }
            out.add(stats(g, list));
        });
        return out;
    }

    private static ObjectNode stats(ObjectNode o, List<Job> jobs) {
        o.put("jobs", jobs.size());
        o.put("spend_micro_usdc", jobs.stream().mapToLong(Job::spend).sum());
        o.put("completion_tokens", jobs.stream().mapToLong(Job::tokens).sum());
        long[] latencies = jobs.stream().mapToLong(Job::latencyMs).sorted().toArray();
        if (latencies.length == 0) {
            o.putNull("p50_latency_ms").putNull("p99_latency_ms");
        } else {
            o.put("p50_latency_ms", percentile(latencies, 50)).put("p99_latency_ms", percentile(latencies, 99));
        }
        return o;
    }

    /** The nearest-rank percentile of sorted values: the smallest value with at least p% of values at or below. */
    static long percentile(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }
}
