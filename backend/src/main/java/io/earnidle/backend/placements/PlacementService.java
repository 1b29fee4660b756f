package io.earnidle.backend.placements;

import java.util.List;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.helidon.dbclient.DbRow;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The public side of placements: {@code GET /api/placements} (the network's placements and their reward split) and
 * {@code GET /api/placements/{id}/widget-config} (what the widget checks before it offers to start). Publishers
 * manage theirs with {@link PublisherPlacementService}.
 */
public record PlacementService(Database db) implements HttpService {
    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::list)
                .get("/{id}/widget-config", this::widgetConfig);
    }

    private void list(ServerRequest req, ServerResponse res) {
        ArrayNode arr = Json.array();
        for (DbRow row : Database.list(db.execute(), "list-placements")) {
            arr.add(Database.copy(Json.object(), row, "id", "name", "publisher_id", "publisher_name",
                    "publisher_share_bps", "status"));
        }
        ObjectNode body = Json.object();
        body.set("placements", arr);
        Json.send(res, Status.OK_200, body);
    }

    /** active, paused (by its publisher) or suspended (its domain is no longer verified). */
    public static String effectiveStatus(DbRow row) {
        return Database.str(row, "suspended_reason") != null ? "suspended" : Database.str(row, "status");
    }

    private void widgetConfig(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        DbRow row = Database.get(db.execute(), "placement-full", id)
                .orElseThrow(() -> Problem.notFound("no placement " + (id.length() > 64 ? id.substring(0, 64) : id)));
        List<String> origins = Origins.allowed(row);
        ObjectNode o = Json.object();
        o.put("placement_id", id);
        String status = effectiveStatus(row);
        o.put("status", status);
        String origin = req.query().first("origin").orElse(null);
        if (origin == null) {
            o.putNull("origin_allowed");
        } else {
            o.put("origin_allowed", Origins.matches(origin, origins));
        }
        // the resource caps the publisher offers; the widget bounds the visitor's choices by them
        o.set("limits", Json.parse(Database.str(row, "limits_json")));
        o.put("message", switch (status) {
            case "paused" -> "The site's owner has paused Earn Idle here for now. Nothing will run.";
            case "suspended" -> "Earn Idle is suspended on this site until its owner re-verifies the domain."
                    + " Nothing will run.";
            default -> origin != null && !Origins.matches(origin, origins)
                    ? "Earn Idle is not enabled for this site, so nothing will run here." : "";
        });
        Json.send(res, Status.OK_200, o);
    }

    /** The backend's own origin as the browser sees it. */
    public static String ownOrigin(ServerRequest req) {
        String proto = req.headers().first(HeaderNames.X_FORWARDED_PROTO).orElse(req.isSecure() ? "https" : "http");
        return proto + "://" + req.authority();
    }
}
