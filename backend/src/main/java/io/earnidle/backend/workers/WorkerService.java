package io.earnidle.backend.workers;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.reputation.Reputation;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Worker cards: {@code GET /workers/{wallet address or node session id}.json} ({@link WorkerCard}), and the same
 * path without {@code .json} as a page (widget-embed's {@code web/worker-card/card.html}, which reads the JSON).
 */
public record WorkerService(Database db, Ledger ledger, Reputation reputation) implements HttpService {
    private static final HttpMediaType HTML = HttpMediaType.create("text/html; charset=utf-8");

    @Override
    public void routing(HttpRules rules) {
        rules.get("/{id}", this::card);
    }

    private void card(ServerRequest req, ServerResponse res) {
        String path = req.path().pathParameters().get("id");
        boolean json = path.endsWith(".json");
        String id = json ? path.substring(0, path.length() - 5) : path;
        String identity = WorkerCard.identity(db.execute(), id).orElseThrow(() -> Problem.notFound("no worker "
                + (id.length() > 64 ? id.substring(0, 64) + "…" : id)));
        if (json) {
            res.headers().set(HeaderNames.CACHE_CONTROL, "public, max-age=60");
            Json.send(res, Status.OK_200, WorkerCard.of(db.execute(), reputation, identity, ledger.now()));
            return;
        }
        try (InputStream page = WorkerService.class.getResourceAsStream("/web/worker-card/card.html")) {
            if (page == null) {
                throw new IllegalStateException("web/worker-card/card.html is not on the classpath");
            }
            res.status(Status.OK_200);
            res.headers().contentType(HTML);
            res.send(page.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
