package io.earnidle.backend.http;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Mounted at {@code /api} after every API service: any request no service took is a problem+json 404 that names
 * it, rather than a static-file 404 page.
 */
public final class UnknownApiService implements HttpService {
    @Override
    public void routing(HttpRules rules) {
        rules.any(UnknownApiService::notFound);
    }

    private static void notFound(ServerRequest req, ServerResponse res) {
        throw Problem.notFound("no API endpoint " + req.prologue().method().text() + " " + ProblemHandler.path(req));
    }
}
