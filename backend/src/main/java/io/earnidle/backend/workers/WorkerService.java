package io.earnidle.backend.workers;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Worker cards (docs/stats.md). Mounted twice: at {@code /api/workers} ({@code GET /{id}}: always the JSON card) and
 * at {@code /workers} ({@code GET /{id}}: the JSON card when the client prefers {@code application/json}, else the
 * card page, which reads the same JSON). The id is a wallet address or a node session id ({@link WorkerId}).
 */
public final class WorkerService implements HttpService {
    private static final String PAGE = "web/worker-card/card.html";
    private static final HttpMediaType HTML = HttpMediaType.create("text/html; charset=utf-8");

    private final WorkerCards cards;
    private final boolean negotiate;
    private final byte[] page;

    private WorkerService(WorkerCards cards, boolean negotiate) {
        this.cards = cards;
        this.negotiate = negotiate;
        this.page = negotiate ? load() : null;
    }

    /** The JSON API: {@code /api/workers/{id}}. */
    public static WorkerService api(WorkerCards cards) {
        return new WorkerService(cards, false);
    }

    /** The page (or JSON by {@code Accept}): {@code /workers/{id}}. */
    public static WorkerService page(WorkerCards cards) {
        return new WorkerService(cards, true);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/{id}", this::card);
    }

    private void card(ServerRequest req, ServerResponse res) {
        String raw = req.path().pathParameters().get("id");
        if (negotiate && !prefersJson(req)) {
            // the page is the same for every id: it validates and fetches /api/workers/{id} itself
            res.status(Status.OK_200);
            res.headers().contentType(HTML);
            res.headers().set(HeaderNames.CACHE_CONTROL, "no-cache");
            res.headers().set(HeaderNames.create("Vary"), "Accept");
            res.send(page);
            return;
        }
        WorkerId id = WorkerId.parse(raw).orElseThrow(() -> Problem.notFound(
                "no worker: give a wallet address (0x and 40 hex digits) or a node session id (ns_...)"));
        ObjectNode card = cards.card(id).orElseThrow(() -> Problem.notFound("no worker " + id.display()));
        if (negotiate) {
            res.headers().set(HeaderNames.create("Vary"), "Accept");
        }
        Json.send(res, Status.OK_200, card);
    }

    private static boolean prefersJson(ServerRequest req) {
        return req.headers().bestAccepted(MediaTypes.TEXT_HTML, MediaTypes.APPLICATION_JSON)
                .map(MediaTypes.APPLICATION_JSON::equals).orElse(false);
    }

    private static byte[] load() {
        try (InputStream in = WorkerService.class.getClassLoader().getResourceAsStream(PAGE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + PAGE);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
