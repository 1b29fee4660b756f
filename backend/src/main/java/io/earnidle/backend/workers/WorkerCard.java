package io.earnidle.backend.workers;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.reputation.Reputation;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

/**
 * A worker's public card (docs/receipts.md "Worker cards"): an identity's reputation, tier and work, read from its
 * node sessions (all sessions of a wallet, or the one session). Nothing personal beyond the public wallet address.
 */
public final class WorkerCard {
    public static final int VERSION = 1;

    private WorkerCard() {
    }

    /** The identity ({@code wallet:…} or {@code session:…}) a wallet address or session id names, if it exists. */
    public static Optional<String> identity(DbExecute exec, String id) {
        if (id.matches("0x[0-9a-fA-F]{40}")) {
            String wallet = id.toLowerCase(Locale.ROOT);
            return Database.get(exec, "w-linked-sessions", wallet).isEmpty() ? Optional.empty()
                    : Optional.of("wallet:" + wallet);
        }
        if (id.matches("ns_[0-9a-f]{1,61}") && Database.get(exec, "rc-session", id).isPresent()) {
            return Optional.of(Reputation.identityOf(exec, id));
        }
        return Optional.empty();
    }

    /** The card of {@code identity} at {@code now}. */
    public static ObjectNode of(DbExecute exec, Reputation reputation, String identity, Instant now) {
        Reputation.Standing standing = reputation.of(exec, identity);
        List<String> sessions = Reputation.sessionsOf(exec, identity);
        long verifiedPassed = 0;
        long skipped = 0;
        long results = 0;
        long rejected = 0;
        long leaseFailures = 0;
        List<Double> latencies = new ArrayList<>();
        TreeSet<String> engines = new TreeSet<>();
        Instant firstSeen = null;
        List<Instant[]> spans = new ArrayList<>();
        for (String sessionId : sessions) {
            DbRow s = Database.get(exec, "wk-session", sessionId).orElseThrow();
            Instant created = Database.instant(s, "created_at");
            firstSeen = firstSeen == null || created.isBefore(firstSeen) ? created : firstSeen;
            spans.add(new Instant[] {created, Database.instant(s, "last_seen_at")});
            for (DbRow r : Database.list(exec, "wk-results", sessionId)) {
                results++;
                engines.add(Database.str(r, "engine"));
                latencies.add(Database.dbl(r, "prefill_ms") + Database.dbl(r, "decode_ms"));
                String v = Database.str(r, "verification");
                verifiedPassed += "passed".equals(v) ? 1 : 0;
                skipped += "skipped".equals(v) ? 1 : 0;
            }
            for (DbRow r : Database.list(exec, "wk-rejected", sessionId)) {
                rejected++;
                engines.add(Database.str(r, "engine"));
            }
            leaseFailures += Database.count(exec, "wk-lease-failures", sessionId);
        }
        ObjectNode card = Json.object();
        card.put("v", VERSION);
        boolean wallet = identity.startsWith("wallet:");
        card.put("wallet", wallet ? identity.substring("wallet:".length()) : null);
        ArrayNode sessionList = card.putArray("sessions");
        sessions.forEach(sessionList::add);
        card.put("tier", standing.tier().key());
        card.put("reputation_score", standing.score());
        card.put("jobs_done", results);
        long attempts = results + rejected + leaseFailures;
        card.put("success_rate", attempts == 0 ? null : (double) results / attempts);
        long verified = verifiedPassed + rejected;
        card.put("verification_pass_rate", verified == 0 ? null : (double) verifiedPassed / verified);
        card.put("results_not_sampled", skipped);
        Collections.sort(latencies);
        card.put("latency_p50_ms", percentile(latencies, 0.50));
        card.put("latency_p99_ms", percentile(latencies, 0.99));
        card.put("uptime_7d", uptime(spans, now, Duration.ofDays(7)));
        card.put("uptime_30d", uptime(spans, now, Duration.ofDays(30)));
        ArrayNode engineList = card.putArray("engines");
        engines.forEach(engineList::add);
        card.put("first_seen", firstSeen == null ? null : firstSeen.toString());
        ArrayNode receipts = card.putArray("receipts");
        for (String sessionId : sessions) {
            receipts.add("/verify/#session=" + sessionId);
        }
        return card;
    }

    /** The nearest-rank percentile of sorted values, null when there are none. */
    static Double percentile(List<Double> sorted, double p) {
        if (sorted.isEmpty()) {
            return null;
        }
        int rank = (int) Math.ceil(p * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    /**
     * The fraction of the window that some session of the worker was connected (from its registration to the
     * last time it was seen), the union of those spans clipped to the window.
     */
    static double uptime(List<Instant[]> spans, Instant now, Duration window) {
        Instant start = now.minus(window);
        List<Instant[]> clipped = new ArrayList<>();
        for (Instant[] s : spans) {
            Instant a = s[0].isBefore(start) ? start : s[0];
            Instant b = s[1].isAfter(now) ? now : s[1];
            if (b.isAfter(a)) {
                clipped.add(new Instant[] {a, b});
            }
        }
        clipped.sort((x, y) -> x[0].compareTo(y[0]));
        long covered = 0;
        Instant end = start;
        for (Instant[] s : clipped) {
            Instant a = s[0].isBefore(end) ? end : s[0];
            if (s[1].isAfter(a)) {
                covered += Duration.between(a, s[1]).toMillis();
                end = s[1];
            }
        }
        return (double) covered / window.toMillis();
    }
}
