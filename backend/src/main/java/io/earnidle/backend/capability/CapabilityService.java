package io.earnidle.backend.capability;

import java.time.Instant;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.nodes.NodeSessions;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code POST /api/nodes/me/models} (answers to the model-possession challenges of the registration) and
 * {@code GET /api/nodes/me/capability} (the session's measured capability and proved-warm model files).
 */
public record CapabilityService(Capability capability, NodeSessions sessions, Ledger ledger, int maxBodyBytes)
        implements HttpService {
    private static final int MAX_PROOFS = 16;

    @Override
    public void routing(HttpRules rules) {
        rules.post("/me/models", this::prove)
                .get("/me/capability", this::show);
    }

    private void prove(ServerRequest req, ServerResponse res) {
        Instant now = ledger.now();
        NodeSessions.Session session = sessions.authenticate(req, now);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        JsonNode proofs = body.get("proofs");
        if (proofs == null || !proofs.isArray() || proofs.size() > MAX_PROOFS) {
            throw Problem.validation("proofs must be an array of at most " + MAX_PROOFS + " objects");
        }
        ObjectNode out = Json.object();
        ArrayNode results = out.putArray("proofs");
        capability.db().inTransaction(tx -> {
            for (JsonNode p : proofs) {
                String sha = p.path("sha256").asText("");
                String range = p.path("range_sha256").asText("");
                if (!sha.matches("[0-9a-fA-F]{64}") || !range.matches("[0-9a-fA-F]{64}")) {
                    throw Problem.validation("each proof needs sha256 and range_sha256 (64 hex digits)");
                }
                ObjectNode r = results.addObject();
                r.put("sha256", sha.toLowerCase(Locale.ROOT));
                r.put("proved", capability.possession().answer(tx, session.id(),
                        sha.toLowerCase(Locale.ROOT), range, now));
            }
            return null;
        });
        Json.send(res, Status.OK_200, out);
    }

    private void show(ServerRequest req, ServerResponse res) {
        NodeSessions.Session session = sessions.authenticate(req, ledger.now());
        Json.send(res, Status.OK_200, capability.describe(session.id()));
    }
}
