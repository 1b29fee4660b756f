package io.earnidle.backend.stats;

import java.nio.charset.StandardCharsets;

import io.earnidle.backend.http.Json;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code GET /api/stats}: the public network statistics ({@link NetworkStats}, docs/stats.md). Public aggregates, so
 * unlike the other JSON responses (no-store) shared caches may keep them for {@link #MAX_AGE_SECONDS}.
 */
public record StatsService(NetworkStats stats) implements HttpService {
    static final int MAX_AGE_SECONDS = 10;
    private static final HttpMediaType JSON = HttpMediaType.create("application/json; charset=utf-8");

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::get);
    }

    private void get(ServerRequest req, ServerResponse res) {
        byte[] body = Json.write(stats.snapshot()).getBytes(StandardCharsets.UTF_8);
        res.status(Status.OK_200);
        res.headers().contentType(JSON);
        res.headers().set(HeaderNames.CACHE_CONTROL, "public, max-age=" + MAX_AGE_SECONDS);
        res.send(body);
    }
}
