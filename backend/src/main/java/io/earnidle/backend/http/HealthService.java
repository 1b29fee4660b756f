package io.earnidle.backend.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code GET /api/health}: {@code {"status":"ok"}} while the instance serves requests. It reads nothing (no database,
 * no session), so it is also the load generator's trivial in-memory endpoint: what the same server serves when a
 * request costs only the HTTP stack (docs/benchmarks.md "Load").
 */
public final class HealthService implements HttpService {
    private static final String OK = "{\"status\":\"ok\"}";

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", HealthService::health);
    }

    private static void health(ServerRequest req, ServerResponse res) {
        res.headers().set(HeaderNames.CACHE_CONTROL, "no-store");
        Json.sendRaw(res, Status.OK_200, OK);
    }
}
