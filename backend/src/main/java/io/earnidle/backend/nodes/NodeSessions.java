package io.earnidle.backend.nodes;

import java.time.Instant;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Bearer;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Problem;
import io.helidon.dbclient.DbRow;
import io.helidon.webserver.http.ServerRequest;

/** Bearer-token authentication of node sessions. */
public final class NodeSessions {
    /** An authenticated session. memoryLimitMb is null when the node declared no memory limit. */
    public record Session(String id, String placementId, Integer memoryLimitMb) {
        public String accountId() {
            return io.earnidle.backend.ledger.Ledger.accountId("node_session", id);
        }
    }

    private final Database db;

    public NodeSessions(Database db) {
        this.db = db;
    }

    /** The session of the request's bearer token (401 when missing or unknown); records last_seen_at. */
    public Session authenticate(ServerRequest req, Instant now) {
        String token = Bearer.token(req);
        DbRow row = Database.get(db.execute(), "session-by-token", Ids.sha256Hex(token))
                .orElseThrow(() -> Problem.unauthorized("unknown session token"));
        Long mem = Database.lngOrNull(row, "memory_limit_mb");
        Session s = new Session(Database.str(row, "id"), Database.str(row, "placement_id"),
                mem == null ? null : mem.intValue());
        db.execute().namedUpdate("touch-session", Database.ts(now), s.id());
        return s;
    }
}
