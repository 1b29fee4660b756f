package io.earnidle.backend.placements;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.helidon.dbclient.DbRow;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code GET /api/placements}: the placements the network serves, with their publisher and reward split, as the
 * publisher portal shows them. (Publisher accounts, and with them per-publisher views, come with the publisher
 * issue; until then every placement is listed.)
 */
public final class PlacementService implements HttpService {
    private final Database db;

    public PlacementService(Database db) {
        this.db = db;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/api/placements", this::list);
    }

    private void list(ServerRequest req, ServerResponse res) {
        ArrayNode arr = Json.MAPPER.createArrayNode();
        for (DbRow row : Database.list(db.execute(), "list-placements")) {
            ObjectNode o = Json.object();
            o.put("id", Database.str(row, "id"));
            o.put("name", Database.str(row, "name"));
            o.put("publisher_id", Database.str(row, "publisher_id"));
            o.put("publisher_name", Database.str(row, "publisher_name"));
            o.put("publisher_share_bps", Database.lng(row, "publisher_share_bps"));
            o.put("status", Database.str(row, "status"));
            arr.add(o);
        }
        ObjectNode body = Json.object();
        body.set("placements", arr);
        Json.send(res, Status.OK_200, body);
    }
}
