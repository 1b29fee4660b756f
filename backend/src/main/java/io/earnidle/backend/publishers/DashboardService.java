package io.earnidle.backend.publishers;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.auth.PublisherSessions;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.domains.DomainNames;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.payouts.Payouts;
import io.earnidle.backend.settings.PublisherSettings;
import io.helidon.dbclient.DbRow;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code GET /api/publisher/dashboard}: verified domains, visitor sessions active now, jobs completed, earnings by
 * day (UTC, the last {@value #DAYS} days), balances (available, pending, in flight), payout history (the
 * publisher's withdrawals, as {@code GET /api/publisher/withdrawals} lists them) and notices. The portal polls it.
 */
public record DashboardService(Database db, Ledger ledger, PublisherSessions sessions, PublisherSettings settings)
        implements HttpService {
    static final int DAYS = 14;

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::dashboard);
    }

    private void dashboard(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.require(req);
        String pub = p.publisherId();
        Instant now = ledger.now();
        String account = Ledger.accountId("publisher", pub);
        ObjectNode out = db.inTransaction(tx -> {
            ObjectNode o = Json.object();
            ArrayNode verified = o.putArray("verified_domains");
            for (DbRow d : Database.list(tx, "verified-domains-of-publisher", pub)) {
                verified.add(DomainNames.display(Database.str(d, "name"))
                        + (Database.bool(d, "include_subdomains") ? " (and subdomains)" : ""));
            }
            o.put("active_sessions_now", Database.count(tx, "publisher-active-sessions", pub,
                    Database.ts(now.minus(settings.activeSessionWindow()))));
            o.put("sessions_total", Database.count(tx, "publisher-sessions-total", pub));
            o.put("jobs_completed", Database.count(tx, "publisher-jobs-completed", pub));
            o.put("balance_micro_usdc", ledger.available(tx, account));
            o.put("pending_micro_usdc", ledger.pending(tx, account));
            Map<LocalDate, Long> byDay = new TreeMap<>();
            LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
            for (int i = DAYS - 1; i >= 0; i--) {
                byDay.put(today.minusDays(i), 0L);
            }
            Instant since = today.minusDays(DAYS - 1).atStartOfDay(ZoneOffset.UTC).toInstant();
            o.put("in_flight_micro_usdc", Payouts.inFlight(tx, account));
            // earnings only: a failed payout's returned funds are not earnings
            for (DbRow e : Database.list(tx, "publisher-earning-entries", account, Database.ts(since))) {
                byDay.merge(LocalDate.ofInstant(Database.instant(e, "created_at"), ZoneOffset.UTC),
                        Database.lng(e, "amount_micro_usdc"), Long::sum);
            }
            // withdrawals: status, amount, tx hash
            o.set("payouts", Payouts.history(tx, account, WithdrawalService.HISTORY));
            ArrayNode days = o.putArray("earnings_by_day");
            byDay.forEach((day, amount) -> days.addObject().put("day", day.toString()).put("micro_usdc", amount));
            ArrayNode notices = o.putArray("notices");
            for (DbRow n : Database.list(tx, "notices-of-publisher", pub)) {
                notices.addObject().put("created_at", Database.instant(n, "created_at").toString())
                        .put("message", Database.str(n, "message"));
            }
            o.put("updated_at", now.toString());
            return o;
        });
        Json.send(res, Status.OK_200, out);
    }

    private static long count(io.helidon.dbclient.DbExecute tx, String statement, Object... params) {
        return Database.get(tx, statement, params).map(r -> Database.lng(r, "n")).orElse(0L);
    }
}
