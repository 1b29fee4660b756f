package io.earnidle.backend.nodes;

import java.time.Duration;
import java.time.Instant;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Bearer;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Problem;
import io.helidon.dbclient.DbRow;
import io.helidon.webserver.http.ServerRequest;

/**
 * Bearer-token authentication of node sessions. A session expires {@code maxAge} after its registration
 * ({@code earnidle.leases.session-max-age-seconds}): 401 {@code session-expired}, the node registers again. Only the
 * requests about a lease it already holds (progress, failure, result) are still accepted from an expired session,
 * so a job leased before the expiry can be finished.
 */
public final class NodeSessions {
    /**
     * An authenticated session. memoryLimitMb is null when the node declared no memory limit; placementEarning is
     * whether its placement may take work now (active and not suspended: a paused or suspended placement stops
     * earning through the sessions it already has too, not only for new ones).
     */
    public record Session(String id, String placementId, Integer memoryLimitMb, boolean placementEarning) {
        public String accountId() {
            return io.earnidle.backend.ledger.Ledger.accountId("node_session", id);
        }
    }

    /**
     * How stale a session's {@code last_seen_at} may get before a request writes it again: every reader counts
     * sessions seen within windows of seconds (live rivals, online sessions), and a poll that writes nothing takes
     * no lock on the session's row, so it never waits for the verifier or a result holding that row.
     */
    static final Duration TOUCH_EVERY = Duration.ofSeconds(1);

    private final Database db;
    private final Duration maxAge;

    public NodeSessions(Database db, Duration maxAge) {
        this.db = db;
        this.maxAge = maxAge;
    }

    /** The session of the request's bearer token (401 when missing, unknown or expired); records last_seen_at. */
    public Session authenticate(ServerRequest req, Instant now) {
        return authenticate(req, now, false);
    }

    /** As {@link #authenticate(ServerRequest, Instant)}, but an expired session is accepted (for its leases). */
    public Session authenticateLeaseHolder(ServerRequest req, Instant now) {
        return authenticate(req, now, true);
    }

    private Session authenticate(ServerRequest req, Instant now, boolean allowExpired) {
        String token = Bearer.token(req);
        DbRow row = Database.get(db.execute(), "session-by-token", Ids.sha256Hex(token))
                .orElseThrow(() -> Problem.unauthorized("unknown session token"));
        Instant expires = Database.instant(row, "created_at").plus(maxAge);
        if (!allowExpired && !expires.isAfter(now)) {
            throw new Problem(401, "session-expired", "Session expired", "node session " + Database.str(row, "id")
                    + " expired at " + expires + "; register again (POST /api/nodes)");
        }
        Long mem = Database.lngOrNull(row, "memory_limit_mb");
        Session s = new Session(Database.str(row, "id"), Database.str(row, "placement_id"),
                mem == null ? null : mem.intValue(), Database.bool(row, "placement_earning"));
        Instant seen = Database.instant(row, "last_seen_at");
        if (seen == null || !seen.isAfter(now.minus(TOUCH_EVERY))) {
            db.execute().namedUpdate("touch-session", Database.ts(now), s.id());
        }
        return s;
    }
}
