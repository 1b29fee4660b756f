package io.earnidle.backend.receipts;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Bearer;
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
 * The receipts' public surface (docs/receipts.md), mounted at {@code /}: {@code GET /api/receipts/{id}},
 * {@code GET /api/jobs/{id}/receipts} (the job's customer only), {@code GET /api/nodes/{session_id}/receipts} (the
 * session's chain, oldest first, a page at a time) and the keys at {@code /.well-known/earnidle-receipt-keys.json}.
 *
 * @param customerOfKey the customer id of a bearer API key, empty when the key is unknown
 */
public record ReceiptService(Database db, Function<String, Optional<String>> customerOfKey) implements HttpService {
    public static final String KEYS_PATH = "/.well-known/earnidle-receipt-keys.json";
    static final int DEFAULT_PAGE = 100;
    static final int MAX_PAGE = 500;

    @Override
    public void routing(HttpRules rules) {
        rules.get(KEYS_PATH, this::keys)
                .get("/api/receipts/{id}", this::byId)
                .get("/api/jobs/{id}/receipts", this::ofJob)
                .get("/api/nodes/{session_id}/receipts", this::ofSession);
    }

    private void keys(ServerRequest req, ServerResponse res) {
        // no-cache: a verifier must see a rotation's new key and a replaced key's end at once
        res.headers().set(HeaderNames.CACHE_CONTROL, "no-cache");
        res.headers().set(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        Json.send(res, Status.OK_200, ReceiptKeys.jwks(db.execute()));
    }

    private void byId(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        DbRow row = Database.get(db.execute(), "rc-by-id", id).orElseThrow(() -> Problem.notFound("no receipt " + id));
        Json.send(res, Status.OK_200, signed(row));
    }

    private void ofJob(ServerRequest req, ServerResponse res) {
        String customer = customerOfKey.apply(Bearer.token(req))
                .orElseThrow(() -> Problem.unauthorized("unknown API key"));
        String id = req.path().pathParameters().get("id");
        Database.owned(db.execute(), "job-by-id", id, "customer_id", customer, "no job " + id + " for this customer");
        ObjectNode out = Json.object();
        out.put("job_id", id);
        out.set("receipts", list(Database.list(db.execute(), "rc-of-job", id)));
        Json.send(res, Status.OK_200, out);
    }

    private void ofSession(ServerRequest req, ServerResponse res) {
        String sessionId = req.path().pathParameters().get("session_id");
        if (Database.get(db.execute(), "rc-session", sessionId).isEmpty()) {
            throw Problem.notFound("no node session " + sessionId);
        }
        long from = number(req, "from", 1, Long.MAX_VALUE, 1);
        int limit = (int) number(req, "limit", 1, MAX_PAGE, DEFAULT_PAGE);
        List<DbRow> rows = Database.list(db.execute(), "rc-chain-page", sessionId, from, limit + 1);
        ObjectNode out = Json.object();
        out.put("session_id", sessionId);
        out.put("from", from);
        out.set("receipts", list(rows.subList(0, Math.min(limit, rows.size()))));
        out.put("next", rows.size() > limit ? "/api/nodes/" + sessionId + "/receipts?from="
                + Database.lng(rows.get(limit), "seq") + "&limit=" + limit : null);
        res.headers().set(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        Json.send(res, Status.OK_200, out);
    }

    private static long number(ServerRequest req, String name, long min, long max, long otherwise) {
        Optional<String> v = req.query().first(name).asOptional();
        if (v.isEmpty()) {
            return otherwise;
        }
        try {
            long n = Long.parseLong(v.get());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw Problem.validation(name + " must be an integer from " + min + " to " + max + ", got " + v.get());
    }

    private static ArrayNode list(List<DbRow> rows) {
        ArrayNode out = Json.array();
        rows.forEach(row -> out.add(signed(row)));
        return out;
    }

    /** {@code {"receipt": {...}, "signature": "<base64url>", "kid": "..."}}: the signature covers the JCS bytes. */
    static ObjectNode signed(DbRow row) {
        ObjectNode out = Json.object();
        out.putRawValue("receipt", new RawValue(Database.str(row, "body_json"))); // the signed text, as stored
        out.put("signature", Database.str(row, "signature"));
        out.put("kid", Database.str(row, "kid"));
        return out;
    }
}
