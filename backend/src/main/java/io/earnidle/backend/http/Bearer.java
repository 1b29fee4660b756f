package io.earnidle.backend.http;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

/** {@code Authorization: Bearer <token>}: how nodes, wallets and customers authenticate. */
public final class Bearer {
    private static final String SCHEME = "Bearer ";

    private Bearer() {
    }

    /** The bearer token of the request, or 401. */
    public static String token(ServerRequest req) {
        String value = req.headers().first(HeaderNames.AUTHORIZATION).orElse(null);
        if (value == null || value.isBlank()) {
            throw Problem.unauthorized("missing Authorization: Bearer <token> header");
        }
        if (!value.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
                || value.substring(SCHEME.length()).isBlank()) {
            throw Problem.unauthorized("Authorization header must use the Bearer scheme");
        }
        return value.substring(SCHEME.length()).trim();
    }
}
