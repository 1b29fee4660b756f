package io.earnidle.backend.workers;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.reputation.Reputation;
import io.earnidle.backend.wallets.EthSignatures;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * The public card of a worker (docs/stats.md): a wallet with every session linked to it, or one node session.
 * It holds reputation and tier, jobs done, success and verification pass rates, p50/p99 job latency (from the lease
 * to the result, as the server saw it), uptime over 7 and 30 days, engines used, first seen and where its receipts
 * are. Nothing personal beyond the public wallet address: no placement, client address, token or balance.
 */
public final class WorkerCards {
    /** The card's format version. */
    public static final int VERSION = 1;
    /** Latency percentiles are taken over at most this many most recent results. */
    static final int LATENCY_SAMPLES = 1000;
    /** At most this many sessions are listed on a card (most recently seen first). */
    static final int LISTED_SESSIONS = 50;

    private final Database db;
    private final Ledger ledger;
    private final Reputation reputation;

    public WorkerCards(Database db, Ledger ledger, Reputation reputation) {
        this.db = db;
        this.ledger = ledger;
        this.reputation = reputation;
    }

    /** The worker's standing alone (for the badge), or empty when it has no session. */
    public Optional<Reputation.Standing> standing(WorkerId id) {
        DbExecute exec = db.execute();
        List<DbRow> sessions = Database.list(exec, "wk-sessions", id.wallet(), id.session(), ts(Instant.EPOCH));
        if (sessions.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(reputation.ofSession(exec, Database.str(sessions.getFirst(), "id")));
    }

    /** The worker's card, or empty when it has no session. */
    public Optional<ObjectNode> card(WorkerId id) {
        Instant now = ledger.now();
        return db.inTransaction(tx -> {
            Object w = id.wallet();
            Object s = id.session();
            List<DbRow> all = Database.list(tx, "wk-sessions", w, s, ts(Instant.EPOCH));
            if (all.isEmpty()) {
                return Optional.empty();
            }
            ObjectNode o = Json.object();
            o.put("version", VERSION);
            o.put("id", id.display());
            o.put("kind", id.isWallet() ? "wallet" : "session");
            String wallet = Database.str(all.getFirst(), "wallet_address");
            if (wallet != null) {
                o.put("wallet_address", EthSignatures.checksum(wallet));
            } else {
                o.putNull("wallet_address");
            }

            Reputation.Standing standing = reputation.ofSession(tx, Database.str(all.getFirst(), "id"));
            ObjectNode rep = o.putObject("reputation");
            rep.put("score", standing.score());
            rep.put("tier", standing.tier().key());
            rep.put("verified_successes", standing.successes());
            rep.put("failed_verifications", standing.failures());
            rep.put("timeouts", standing.timeouts());

            long passed = 0;
            long pending = 0;
            long notSampled = 0;
            long done = 0;
            for (DbRow r : Database.list(tx, "wk-result-verifications", w, s)) {
                long n = Database.lng(r, "n");
                done += n;
                String v = Database.str(r, "verification");
                if ("passed".equals(v)) {
                    passed += n;
                } else if ("skipped".equals(v)) {
                    notSampled += n;
                } else if ("pending".equals(v) || "redundant".equals(v)) {
                    pending += n;
                }
            }
            long rejected = Database.count(tx, "wk-rejected", w, s);
            long leaseFailures = Database.count(tx, "wk-lease-failures", w, s);
            o.put("jobs_done", done);
            long attempts = done + rejected + leaseFailures;
            putRate(o, "success_rate", done, attempts);
            ObjectNode ver = o.putObject("verification");
            ver.put("passed", passed);
            ver.put("failed", rejected);
            ver.put("pending", pending);
            ver.put("not_sampled", notSampled);
            putRate(ver, "pass_rate", passed, passed + rejected);

            o.set("latency_ms", latency(tx, w, s));

            List<Uptime.Interval> alive = new ArrayList<>();
            for (DbRow r : Database.list(tx, "wk-sessions", w, s, ts(now.minus(Duration.ofDays(30))))) {
                alive.add(new Uptime.Interval(Database.instant(r, "created_at"),
                        Database.instant(r, "last_seen_at")));
            }
            ObjectNode uptime = o.putObject("uptime");
            uptime.put("d7", round4(Uptime.fraction(alive, now, Duration.ofDays(7))));
            uptime.put("d30", round4(Uptime.fraction(alive, now, Duration.ofDays(30))));

            ArrayNode engines = o.putArray("engines");
            Database.list(tx, "wk-engines", w, s).forEach(r -> engines.add(Database.str(r, "engine")));
            Instant firstSeen = all.stream().map(r -> Database.instant(r, "created_at")).min(Instant::compareTo)
                    .orElseThrow();
            Instant lastSeen = all.stream().map(r -> Database.instant(r, "last_seen_at")).max(Instant::compareTo)
                    .orElseThrow();
            o.put("first_seen", firstSeen.toString());
            o.put("last_seen", lastSeen.toString());

            o.put("session_count", all.size());
            ArrayNode sessions = o.putArray("sessions");
            all.stream().limit(LISTED_SESSIONS).forEach(r -> {
                String sid = Database.str(r, "id");
                ObjectNode so = sessions.addObject();
                so.put("session_id", sid);
                so.put("first_seen", Database.instant(r, "created_at").toString());
                so.put("last_seen", Database.instant(r, "last_seen_at").toString());
                so.put("receipts_url", "/verify/#session=" + sid);
            });
            o.put("receipts_url", "/verify/#session=" + Database.str(all.getFirst(), "id"));
            o.put("badge_url", "/badge/" + id.display() + ".svg");
            o.put("generated_at", now.toString());
            return Optional.of(o);
        });
    }

    private static ObjectNode latency(DbExecute tx, Object w, Object s) {
        List<DbRow> rows = Database.list(tx, "wk-latencies", w, s, LATENCY_SAMPLES);
        long[] ms = new long[rows.size()];
        for (int i = 0; i < ms.length; i++) {
            DbRow r = rows.get(i);
            ms[i] = Math.max(0, Duration.between(Database.instant(r, "leased_at"),
                    Database.instant(r, "created_at")).toMillis());
        }
        Arrays.sort(ms);
        ObjectNode l = Json.object();
        l.put("samples", ms.length);
        if (ms.length == 0) {
            l.putNull("p50");
            l.putNull("p99");
        } else {
            l.put("p50", percentile(ms, 50));
            l.put("p99", percentile(ms, 99));
        }
        return l;
    }

    /** Nearest-rank percentile of sorted values. */
    static long percentile(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    private static void putRate(ObjectNode o, String field, long part, long whole) {
        if (whole == 0) {
            o.putNull(field);
        } else {
            o.put(field, round4((double) part / whole));
        }
    }

    private static double round4(double v) {
        return Math.round(v * 10_000) / 10_000.0;
    }
}
