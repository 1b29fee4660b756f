package io.earnidle.backend.workers;

import java.nio.charset.StandardCharsets;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.reputation.Reputation;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code GET /badge/{wallet address or node session id}.svg}: the worker's trust tier and reputation score as a
 * shields-style SVG (docs/receipts.md), cacheable for a few minutes. Unknown workers get a 404 problem, never an
 * SVG with the requested name in it.
 */
public record BadgeService(Database db, Reputation reputation) implements HttpService {
    private static final HttpMediaType SVG = HttpMediaType.create("image/svg+xml; charset=utf-8");

    @Override
    public void routing(HttpRules rules) {
        rules.get("/{file}", this::badge);
    }

    private void badge(ServerRequest req, ServerResponse res) {
        String file = req.path().pathParameters().get("file");
        if (!file.endsWith(".svg")) {
            throw Problem.notFound("a badge is /badge/{wallet or session}.svg");
        }
        String id = file.substring(0, file.length() - 4);
        String identity = WorkerCard.identity(db.execute(), id).orElseThrow(() -> Problem.notFound("no worker "
                + (id.length() > 64 ? id.substring(0, 64) + "…" : id)));
        Reputation.Standing standing = reputation.of(db.execute(), identity);
        String tier = standing.tier().key();
        byte[] svg = Badge.svg("earn idle", tier + " · " + standing.score(), Badge.color(tier),
                "Earn Idle worker " + id + ": " + tier + ", reputation " + standing.score() + "/100")
                .getBytes(StandardCharsets.UTF_8);
        res.status(Status.OK_200);
        res.headers().contentType(SVG);
        res.headers().set(HeaderNames.CACHE_CONTROL, "public, max-age=300");
        res.headers().set(HeaderNames.create("X-Content-Type-Options"), "nosniff");
        res.headers().set(HeaderNames.create("Content-Security-Policy"), "default-src 'none'; style-src 'unsafe-inline'");
        res.send(svg);
    }
}
