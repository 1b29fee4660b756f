package io.earnidle.backend.workers;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import io.earnidle.backend.reputation.Reputation;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code GET /badge/{wallet or session}.svg}: the worker's tier and score as a shields-style SVG ({@link Badge}),
 * cacheable for a few minutes by browsers and CDNs. An unknown worker gets a grey "unknown" badge with status 404, so
 * an embedded image still shows something.
 */
public final class BadgeService implements HttpService {
    /** How long a badge may be cached: reputation moves with verified results, not by the second. */
    static final int MAX_AGE_SECONDS = 300;
    private static final HttpMediaType SVG = HttpMediaType.create("image/svg+xml; charset=utf-8");

    private final WorkerCards cards;

    public BadgeService(WorkerCards cards) {
        this.cards = cards;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/{file}", this::badge);
    }

    private void badge(ServerRequest req, ServerResponse res) {
        String file = req.path().pathParameters().get("file");
        Optional<WorkerId> id = file.endsWith(".svg")
                ? WorkerId.parse(file.substring(0, file.length() - ".svg".length())) : Optional.empty();
        Optional<Reputation.Standing> standing = id.flatMap(cards::standing);
        String svg;
        if (standing.isPresent()) {
            Reputation.Standing s = standing.get();
            svg = Badge.svg(Badge.LABEL, Badge.message(s.tier(), s.score()), Badge.colour(s.tier()),
                    "Earn Idle worker " + id.get().display() + ": " + s.tier().key() + ", score " + s.score());
            res.status(Status.OK_200);
            res.headers().set(HeaderNames.CACHE_CONTROL, "public, max-age=" + MAX_AGE_SECONDS);
        } else {
            svg = Badge.svg(Badge.LABEL, "unknown", null, "Earn Idle: no such worker");
            res.status(Status.NOT_FOUND_404);
            res.headers().set(HeaderNames.CACHE_CONTROL, "no-cache");
        }
        res.headers().contentType(SVG);
        res.headers().set(HeaderNames.create("X-Content-Type-Options"), "nosniff");
        // opened on its own, the SVG may not run anything
        res.headers().set(HeaderNames.create("Content-Security-Policy"), "default-src 'none'; style-src 'unsafe-inline'");
        res.send(svg.getBytes(StandardCharsets.UTF_8));
    }
}
