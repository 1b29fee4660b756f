package io.earnidle.backend.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.SetCookie;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Signed-in publisher sessions: a random cookie ({@code HttpOnly; SameSite=Lax}, plus {@code Secure} except on plain
 * http to a loopback host) whose SHA-256 is stored, and a per-session CSRF token that every state-changing request
 * must echo in the {@code X-CSRF-Token} header. Cross-origin state-changing requests are also refused by their
 * {@code Origin} header.
 */
public record PublisherSessions(Database db, Ledger ledger, Duration lifetime) {
    public static final String COOKIE = "ei_publisher_session";
    public static final HeaderName CSRF_HEADER = HeaderNames.create("X-CSRF-Token");

    /** A signed-in publisher. */
    public record Principal(String publisherId, String sessionId, String csrfToken) {
    }

    /** Starts a session for {@code publisherId}: stores it and sets the cookie. Returns the CSRF token. */
    public String start(DbExecute tx, ServerRequest req, ServerResponse res, String publisherId) {
        Instant now = ledger.now();
        String token = "ps_" + Ids.randomHex(32);
        String csrf = Ids.randomHex(24);
        tx.namedInsert("pub-insert-session", Ids.newId("pss_"), publisherId, Ids.sha256Hex(token), csrf,
                Database.ts(now), Database.ts(now.plus(lifetime)));
        res.headers().addCookie(SetCookie.builder(COOKIE, token)
                .path("/")
                .httpOnly(true)
                .sameSite(SetCookie.SameSite.LAX)
                .secure(secureCookies(req))
                .maxAge(lifetime)
                .build());
        return csrf;
    }

    /** Removes the cookie from the browser. */
    public void clearCookie(ServerRequest req, ServerResponse res) {
        res.headers().addCookie(SetCookie.builder(COOKIE, "")
                .path("/")
                .httpOnly(true)
                .sameSite(SetCookie.SameSite.LAX)
                .secure(secureCookies(req))
                .maxAge(Duration.ZERO)
                .build());
    }

    /** The signed-in publisher, if any (expired sessions are treated as absent). */
    public Optional<Principal> current(ServerRequest req) {
        Optional<String> cookie = req.headers().cookies().first(COOKIE).asOptional();
        if (cookie.isEmpty() || cookie.get().isBlank() || cookie.get().length() > 200) {
            return Optional.empty();
        }
        Optional<DbRow> row = Database.get(db.execute(), "pub-session-by-token", Ids.sha256Hex(cookie.get()));
        if (row.isEmpty() || !Database.instant(row.get(), "expires_at").isAfter(ledger.now())) {
            return Optional.empty();
        }
        return Optional.of(new Principal(Database.str(row.get(), "publisher_id"), Database.str(row.get(), "id"),
                Database.str(row.get(), "csrf_token")));
    }

    /** The signed-in publisher, or 401. */
    public Principal require(ServerRequest req) {
        return current(req).orElseThrow(() -> Problem.unauthorized("sign in first: no valid publisher session"));
    }

    /** The signed-in publisher of a state-changing request: 401 without a session, 403 without the CSRF token. */
    public Principal requireForChange(ServerRequest req) {
        checkOrigin(req);
        Principal p = require(req);
        String sent = req.headers().first(CSRF_HEADER).orElse("");
        if (!MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8),
                p.csrfToken().getBytes(StandardCharsets.UTF_8))) {
            throw csrf("missing or wrong X-CSRF-Token header (read csrf_token from GET /api/publisher/me)");
        }
        return p;
    }

    /** Refuses a state-changing request whose Origin header names another origin than the one it was sent to. */
    public void checkOrigin(ServerRequest req) {
        Optional<String> origin = req.headers().first(HeaderNames.ORIGIN);
        if (origin.isEmpty()) {
            return; // not a browser cross-origin request (browsers send Origin on every POST/PUT/DELETE)
        }
        String own = (req.isSecure() ? "https://" : "http://") + req.authority();
        String forwardedProto = req.headers().first(HeaderNames.X_FORWARDED_PROTO).orElse(null);
        String ownForwarded = forwardedProto == null ? own : forwardedProto + "://" + req.authority();
        if (!origin.get().equalsIgnoreCase(own) && !origin.get().equalsIgnoreCase(ownForwarded)) {
            throw csrf("cross-origin request from " + origin.get() + " refused");
        }
    }

    public static Problem csrf(String detail) {
        return new Problem(403, "csrf", "Forbidden", detail);
    }

    /** Ends one session. */
    public void end(Principal p) {
        db.execute().namedDelete("pub-delete-session", p.sessionId());
    }

    /** Ends every session of the publisher (all devices). Returns how many were ended. */
    public long endAll(String publisherId) {
        return db.execute().namedDelete("pub-delete-sessions", publisherId);
    }

    /** Secure cookies everywhere except plain http to a loopback host (local development and tests). */
    static boolean secureCookies(ServerRequest req) {
        if (req.isSecure()) {
            return true;
        }
        String host = req.requestedUri().host();
        boolean loopback = host.equals("localhost") || host.endsWith(".localhost") || host.startsWith("127.")
                || host.equals("[::1]") || host.equals("::1");
        return !loopback;
    }
}
