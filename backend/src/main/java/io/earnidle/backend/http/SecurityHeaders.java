package io.earnidle.backend.http;

import java.util.Set;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

/**
 * {@code Content-Security-Policy} with {@code frame-ancestors 'none'} (and {@code X-Frame-Options: DENY} for old
 * browsers) on the HTML pages the backend serves itself: the portal (nothing framed, scripts and styles only from
 * this origin, so neither clickjacking nor injected markup can run script), the demo publisher page (which also
 * loads the widget from the other loopback name) and the start page. The widget page sets its own policy
 * ({@code placements.WidgetPageService}: frame-ancestors = the placement's verified origins) and is left alone, as
 * are scripts, workers and API responses (a worker's policy would come from its script's response).
 */
public final class SecurityHeaders {
    static final HeaderName CSP = HeaderNames.create("Content-Security-Policy");
    /** The portal: same-origin scripts, styles, API calls and images; framed by no one. */
    public static final String PORTAL = "default-src 'self'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            + "frame-ancestors 'none'";
    /** The demo publisher page: the widget's script and iframe come from the other loopback name. */
    public static final String DEMO = "default-src 'self'; script-src 'self' http://localhost:* http://127.0.0.1:*; "
            + "frame-src http://localhost:* http://127.0.0.1:*; style-src 'self'; img-src 'self' data:; "
            + "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    /** Static pages without scripts (the start page). */
    public static final String STATIC = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
            + "form-action 'none'; frame-ancestors 'none'";
    private static final Set<String> PORTAL_PAGES = Set.of("/portal", "/portal/", "/portal/index.html");
    private static final Set<String> DEMO_PAGES = Set.of("/demo", "/demo/", "/demo/index.html");
    private static final Set<String> START_PAGES = Set.of("/", "/index.html");

    private SecurityHeaders() {
    }

    /** The policy for a page at {@code path}, or null for anything this filter leaves alone. */
    public static String policy(String path) {
        if (PORTAL_PAGES.contains(path)) {
            return PORTAL;
        }
        if (DEMO_PAGES.contains(path)) {
            return DEMO;
        }
        return START_PAGES.contains(path) ? STATIC : null;
    }

    /** The routing filter: sets the headers before the page is served. */
    public static void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String policy = policy(req.path().path());
        if (policy != null) {
            res.headers().set(CSP, policy);
            res.headers().set(HeaderNames.create("X-Frame-Options"), "DENY");
            res.headers().set(HeaderNames.create("X-Content-Type-Options"), "nosniff");
        }
        chain.proceed();
    }
}
