package io.earnidle.backend.domains;

import java.time.Instant;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.auth.PublisherSessions;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Ids;
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
 * A publisher's domains: {@code GET/POST /api/publisher/domains}, {@code POST /api/publisher/domains/{id}/check}
 * ("Check now") and {@code DELETE /api/publisher/domains/{id}}.
 */
public record DomainService(Database db, Ledger ledger, PublisherSessions sessions, DomainVerifier verifier,
                            PublisherSettings settings, int maxBodyBytes) implements HttpService {
    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::list)
                .post("/", this::add)
                .post("/{id}/check", this::check)
                .delete("/{id}", this::remove);
    }

    private void list(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.require(req);
        ArrayNode arr = Json.array();
        for (DbRow row : Database.list(db.execute(), "domains-of-publisher", p.publisherId())) {
            arr.add(json(row));
        }
        ObjectNode out = Json.object();
        out.set("domains", arr);
        out.put("resolver", verifier.resolver().description());
        Json.send(res, Status.OK_200, out);
    }

    private void add(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String input = Fields.requiredString(body, "domain", 300);
        String name = DomainNames.normalize(input);
        boolean subdomains = Fields.optionalBoolean(body, "include_subdomains", false);
        String id = Ids.newId("dom_");
        String token = Ids.randomHex(20);
        Instant now = ledger.now();
        db.inTransaction(tx -> {
            if (Database.get(tx, "domain-of-publisher-by-name", p.publisherId(), name).isPresent()) {
                throw Problem.conflict("you already added " + DomainNames.display(name));
            }
            long count = Database.count(tx, "domain-count-of-publisher", p.publisherId());
            if (count >= settings.maxDomains()) {
                throw Problem.conflict("an account can hold at most " + settings.maxDomains() + " domains");
            }
            tx.namedInsert("insert-domain", id, p.publisherId(), name, DomainNames.display(name), token, subdomains,
                    "pending", Database.ts(now));
            return null;
        });
        DbRow row = Database.get(db.execute(), "domain-by-id", id).orElseThrow();
        Json.sendCreated(req, res, Status.CREATED_201, id, json(row));
    }

    private DbRow own(PublisherSessions.Principal p, String id) {
        return Database.owned(db.execute(), "domain-by-id", id, "publisher_id", p.publisherId(),
                "no domain " + id + " in your account");
    }

    private void check(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        String id = req.path().pathParameters().get("id");
        DbRow row = own(p, id);
        if ("lost".equals(Database.str(row, "status"))) {
            throw Problem.conflict(Database.str(row, "display_name") + " was claimed by another account; remove it"
                    + " and add it again to get a new token");
        }
        DomainVerifier.Outcome outcome = verifier.check(id);
        if (outcome.dropped() && !"verified".equals(outcome.status())) {
            throw Problem.conflict(Database.str(row, "display_name") + " changed while it was being checked (it is "
                    + outcome.status() + " now); reload it and check again");
        }
        if (!outcome.verified() && !outcome.dropped()) {
            throw new Problem(422, "dns-record-not-found", "Verification record not found",
                    "no TXT record \"" + outcome.expectedValue() + "\" at " + outcome.expectedName()
                            + " yet: the resolver (" + outcome.resolver() + ") saw " + outcome.answer().describe()
                            + ". DNS changes can take a few minutes to appear; check again later.");
        }
        Json.send(res, Status.OK_200, json(Database.get(db.execute(), "domain-by-id", id).orElseThrow()));
    }

    private void remove(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        String id = req.path().pathParameters().get("id");
        own(p, id);
        db.inTransaction(tx -> {
            tx.namedDelete("delete-domain", id);
            DomainVerifier.refreshPlacements(tx, p.publisherId());
            return null;
        });
        res.status(Status.NO_CONTENT_204).send();
    }

    static ObjectNode json(DbRow row) {
        ObjectNode o = Json.object();
        String name = Database.str(row, "name");
        o.put("id", Database.str(row, "id"));
        o.put("domain", Database.str(row, "display_name"));
        o.put("ascii", name);
        o.put("include_subdomains", Database.bool(row, "include_subdomains"));
        o.put("status", Database.str(row, "status"));
        ObjectNode rec = o.putObject("record");
        rec.put("name", DomainNames.recordName(name));
        rec.put("type", "TXT");
        rec.put("value", DomainNames.recordValue(Database.str(row, "token")));
        rec.put("zone_file_line", DomainNames.recordName(name) + ". 300 IN TXT \""
                + DomainNames.recordValue(Database.str(row, "token")) + "\"");
        Instant verified = Database.instant(row, "verified_at");
        Instant checked = Database.instant(row, "last_checked_at");
        o.put("verified_at", verified == null ? null : verified.toString());
        o.put("last_checked_at", checked == null ? null : checked.toString());
        o.put("last_check_detail", Database.str(row, "last_check_detail"));
        return o;
    }
}
