package io.earnidle.backend.stats;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.reputation.Reputation;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code GET /api/stats}: {@link NetworkStats}, computed at most once per {@link #FRESH} (it reads every online
 * session and a week of results; the endpoint is public).
 */
public final class StatsService implements HttpService {
    static final Duration FRESH = Duration.ofSeconds(10);

    private record Computed(Instant at, ObjectNode stats) {
    }

    private final Database db;
    private final Ledger ledger;
    private final Reputation reputation;
    private final AtomicReference<Computed> last = new AtomicReference<>();

    public StatsService(Database db, Ledger ledger, Reputation reputation) {
        this.db = db;
        this.ledger = ledger;
        this.reputation = reputation;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::stats);
    }

    private void stats(ServerRequest req, ServerResponse res) {
        Instant now = ledger.now();
        Computed c = last.get();
        if (c == null || !now.isBefore(c.at().plus(FRESH)) || now.isBefore(c.at())) {
            c = new Computed(now, NetworkStats.of(db.execute(), reputation, now));
            last.set(c);
        }
        res.headers().set(HeaderNames.CACHE_CONTROL, "public, max-age=" + FRESH.toSeconds());
        res.headers().set(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        Json.send(res, Status.OK_200, c.stats());
    }
}
