package io.earnidle.backend.placements;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.auth.PublisherSessions;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.domains.DomainNames;
import io.earnidle.backend.domains.DomainVerifier;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.settings.PublisherSettings;
import io.helidon.dbclient.DbRow;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The signed-in publisher's placements: {@code GET/POST /api/publisher/placements},
 * {@code PUT/DELETE /api/publisher/placements/{id}}.
 */
public record PublisherPlacementService(Database db, Ledger ledger, PublisherSessions sessions,
                                        PublisherSettings settings, int maxBodyBytes) implements HttpService {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final Pattern PAGE_ID = Pattern.compile("[A-Za-z0-9_.:/-]{1,64}");
    private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,199}");

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::mine)
                .post("/", this::create)
                .put("/{id}", this::update)
                .delete("/{id}", this::delete);
    }

    private void mine(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.require(req);
        ArrayNode arr = Json.array();
        for (DbRow row : Database.list(db.execute(), "placements-of-publisher", p.publisherId())) {
            arr.add(json(req, row));
        }
        ObjectNode out = Json.object();
        out.set("placements", arr);
        ObjectNode card = out.putObject("rate_card");
        card.put("publisher_share_min_bps", settings.shareMinBps());
        card.put("publisher_share_max_bps", settings.shareMaxBps());
        Json.send(res, Status.OK_200, out);
    }

    /** The validated, normalised fields of a create or update body. */
    private record Input(String name, String pageId, String domain, String pathPrefix, ObjectNode limits,
                         int shareBps, String status) {
    }

    private Input input(ObjectNode body, String publisherId) {
        String name = Fields.requiredString(body, "name", 100).strip();
        if (name.isEmpty()) {
            throw Problem.validation("name must not be blank");
        }
        String pageId = Fields.requiredString(body, "page_id", 64);
        if (!PAGE_ID.matcher(pageId).matches()) {
            throw Problem.validation("page_id may use letters, digits and _ . : / - (1 to 64 characters)");
        }
        String domain = DomainNames.normalize(Fields.requiredString(body, "domain", 300));
        String path = Fields.present(body, "path_prefix") ? Fields.requiredString(body, "path_prefix", 200) : "/";
        if (!PATH.matcher(path).matches()) {
            throw Problem.validation("path_prefix must start with / and contain only URL path characters, got \""
                    + path + "\"");
        }
        ObjectNode l = Fields.requiredObject(body, "limits");
        ObjectNode limits = Json.object();
        limits.put("cpu_share", Fields.requiredDouble(l, "cpu_share", 0.05, 1.0));
        limits.put("gpu", Fields.optionalBoolean(l, "gpu", false));
        limits.put("bandwidth_kbps", Fields.requiredLong(l, "bandwidth_kbps", 64, 1_000_000));
        limits.put("memory_mb", Fields.requiredLong(l, "memory_mb", 128, 16_384));
        int share = (int) Fields.requiredLong(body, "publisher_share_bps", settings.shareMinBps(),
                settings.shareMaxBps());
        String status = Fields.present(body, "status") ? Fields.requiredString(body, "status", 16) : "active";
        if (!status.equals("active") && !status.equals("paused")) {
            throw Problem.validation("status must be active or paused, got \"" + status + "\"");
        }
        if (!DomainVerifier.covered(db.execute(), publisherId, domain)) {
            throw Problem.validation("domain " + DomainNames.display(domain) + " is not verified for your account:"
                    + " verify it first (or verify its parent domain with subdomains included)");
        }
        return new Input(name, pageId, domain, path, limits, share, status);
    }

    private void create(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String id = Fields.requiredString(body, "id", 64);
        if (!ID.matcher(id).matches()) {
            throw Problem.validation("id may use letters, digits, _ and - (1 to 64 characters)");
        }
        Input in = input(body, p.publisherId());
        Instant now = ledger.now();
        db.inTransaction(tx -> {
            if (Database.get(tx, "placement-by-id", id).isPresent()) {
                throw Problem.conflict("placement id " + id + " is taken; choose another");
            }
            long count = Database.count(tx, "placement-count-of-publisher", p.publisherId());
            if (count >= settings.maxPlacements()) {
                throw Problem.conflict("an account can hold at most " + settings.maxPlacements() + " placements");
            }
            tx.namedInsert("insert-placement", id, p.publisherId(), in.name(), in.shareBps(), in.status(),
                    Json.write(in.limits()), Database.ts(now));
            tx.namedUpdate("placement-set-targeting", in.pageId(), in.domain(), in.pathPrefix(), Database.ts(now), id);
            return null;
        });
        Json.sendCreated(req, res, Status.CREATED_201, id,
                json(req, Database.get(db.execute(), "placement-full", id).orElseThrow()));
    }

    private DbRow own(PublisherSessions.Principal p, String id) {
        return Database.owned(db.execute(), "placement-full", id, "publisher_id", p.publisherId(),
                "no placement " + id + " in your account");
    }

    private void update(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        String id = req.path().pathParameters().get("id");
        own(p, id);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        if (Fields.present(body, "id") && !id.equals(body.get("id").asText())) {
            throw Problem.validation("id cannot be changed (create a new placement instead)");
        }
        Input in = input(body, p.publisherId());
        Instant now = ledger.now();
        db.inTransaction(tx -> {
            tx.namedUpdate("placement-update", in.name(), in.shareBps(), in.status(), Json.write(in.limits()), id);
            tx.namedUpdate("placement-set-targeting", in.pageId(), in.domain(), in.pathPrefix(), Database.ts(now), id);
            DomainVerifier.refreshPlacements(tx, p.publisherId());
            return null;
        });
        Json.send(res, Status.OK_200, json(req, Database.get(db.execute(), "placement-full", id).orElseThrow()));
    }

    private void delete(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        String id = req.path().pathParameters().get("id");
        own(p, id);
        db.inTransaction(tx -> {
            long sessionsUsing = Database.count(tx, "placement-session-count", id);
            if (sessionsUsing > 0) {
                throw Problem.conflict("placement " + id + " has " + sessionsUsing + " visitor sessions on record and"
                        + " cannot be deleted; pause it instead");
            }
            tx.namedDelete("delete-placement", id);
            return null;
        });
        res.status(Status.NO_CONTENT_204).send();
    }

    private ObjectNode json(ServerRequest req, DbRow row) {
        String id = Database.str(row, "id");
        String domain = Database.str(row, "domain");
        ObjectNode o = Json.object();
        o.put("id", id);
        o.put("name", Database.str(row, "name"));
        o.put("page_id", Database.str(row, "page_id"));
        o.put("domain", domain == null ? null : DomainNames.display(domain));
        o.put("path_prefix", Database.str(row, "path_prefix"));
        o.set("limits", Json.parse(Database.str(row, "limits_json")));
        o.put("publisher_share_bps", Database.lng(row, "publisher_share_bps"));
        o.put("status", PlacementService.effectiveStatus(row));
        o.put("paused", "paused".equals(Database.str(row, "status")));
        o.put("suspended_reason", Database.str(row, "suspended_reason"));
        ArrayNode origins = o.putArray("allowed_origins");
        Origins.allowed(row).forEach(origins::add);
        String base = PlacementService.ownOrigin(req);
        ObjectNode embed = o.putObject("embed");
        embed.put("script", "<script src=\"" + base + "/embed.js\" data-placement=\"" + id + "\" async></script>");
        String host = domain == null ? "" : "https://" + domain;
        embed.put("iframe", "<iframe src=\"" + base + "/widget/?placement=" + id + "&amp;host="
                + URLEncoder.encode(host, StandardCharsets.UTF_8) + "\" title=\"Earn Idle: lend spare compute, earn"
                + " USDC\" loading=\"lazy\" allow=\"cross-origin-isolated\" style=\"display:block;width:100%;"
                + "max-width:420px;height:420px;border:1px solid #d0d4dc;border-radius:12px\"></iframe>");
        return o;
    }
}
