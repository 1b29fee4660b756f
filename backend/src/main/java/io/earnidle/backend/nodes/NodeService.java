package io.earnidle.backend.nodes;

import java.time.Instant;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.ClientAddresses;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.leases.RegistrationLimit;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.reputation.Reputation;
import io.earnidle.backend.settings.Settings;
import io.earnidle.backend.wallets.Wallets;
import io.helidon.dbclient.DbRow;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code POST /api/nodes} (register a node session), {@code GET /api/nodes/me} (the session's own counters, by
 * token) and {@code GET /api/nodes/{session_id}} (the same public counters by id: what an auditor, the visitor's
 * other devices or the e2e test read; no credential is revealed). Registration is rate-limited per client address and
 * placement ({@link RegistrationLimit}; the address as {@link ClientAddresses} resolves it behind trusted proxies).
 */
public record NodeService(Settings settings, Database db, Ledger ledger, NodeSessions sessions,
                          RegistrationLimit registrationLimit, Reputation reputation,
                          RegistrationExtension extension, ClientAddresses clients) implements HttpService {
    @Override
    public void routing(HttpRules rules) {
        rules.post("/", this::register)
                .get("/me", this::me)
                .get("/{session_id}", this::byId);
    }

    private void register(ServerRequest req, ServerResponse res) {
        ObjectNode body = Json.readObject(req, settings.maxBodyBytes());
        String placementId = Fields.requiredString(body, "placement_id", 64);
        // optional: a verified wallet's token links the session to the wallet at birth (docs/payouts.md)
        String walletToken = Fields.present(body, "wallet_token")
                ? Fields.requiredString(body, "wallet_token", 200) : null;
        ObjectNode caps = Fields.requiredObject(body, "capabilities");
        ObjectNode limits = Fields.requiredObject(body, "limits");
        ObjectNode cleanCaps = Json.object();
        cleanCaps.put("webgpu", Fields.optionalBoolean(caps, "webgpu", false));
        cleanCaps.put("wasm_simd", Fields.optionalBoolean(caps, "wasm_simd", false));
        cleanCaps.put("threads", Fields.optionalBoolean(caps, "threads", false));
        cleanCaps.put("cores", Fields.optionalLong(caps, "cores", 1, 1024, 1));
        cleanCaps.put("device_memory_gb", Fields.optionalDouble(caps, "device_memory_gb", 0, 65536, 0));
        ObjectNode cleanLimits = Json.object();
        cleanLimits.put("cpu_share", Fields.optionalDouble(limits, "cpu_share", 0.01, 1.0, 0.5));
        cleanLimits.put("gpu", Fields.optionalBoolean(limits, "gpu", false));
        Integer memoryMb = Fields.present(limits, "memory_mb")
                ? (int) Fields.optionalLong(limits, "memory_mb", 1, 1_048_576, 0) : null;
        if (memoryMb != null) {
            cleanLimits.put("memory_mb", memoryMb);
        }
        if (Fields.present(limits, "bandwidth_kbps")) {
            cleanLimits.put("bandwidth_kbps", Fields.optionalLong(limits, "bandwidth_kbps", 1, 10_000_000, 0));
        }
        if (caps.size() > 32 || limits.size() > 32) {
            throw Problem.validation("capabilities and limits may have at most 32 fields each");
        }

        Instant now = ledger.now();
        String client = clients.of(req);
        registrationLimit.check(db.execute(), client, placementId, now);
        String sessionId = Ids.newId("ns_");
        String token = "nst_" + Ids.randomHex(32);
        ObjectNode extra = Json.object();
        db.inTransaction(tx -> {
            DbRow placement = Database.get(tx, "placement-by-id", placementId)
                    .orElseThrow(() -> Problem.notFound("no placement " + placementId));
            if (!"active".equals(Database.str(placement, "status"))) {
                throw Problem.notFound("placement " + placementId + " is paused");
            }
            tx.namedInsert("insert-session", sessionId, Ids.sha256Hex(token), placementId, Json.write(cleanCaps),
                    Json.write(cleanLimits), memoryMb == null ? -1 : memoryMb, Database.ts(now), Database.ts(now));
            ledger.ensureAccount(tx, "node_session", sessionId);
            registrationLimit.record(tx, sessionId, client, placementId, now);
            if (walletToken != null) {
                Wallets.link(tx, sessionId, Wallets.addressForToken(tx, walletToken, now)
                        .orElseThrow(() -> Problem.unauthorized("unknown or expired wallet_token")));
            }
            extension.registered(tx, sessionId, body, extra, now); // engines, held model files (docs/trust.md)
            return null;
        });

        ObjectNode out = Json.object();
        out.put("session_id", sessionId);
        out.put("session_token", token);
        out.put("placement_id", placementId);
        out.put("poll_interval_ms", settings.pollIntervalMs());
        out.setAll(extra);
        Json.sendCreated(req, res, Status.CREATED_201, "me", out);
    }

    private void me(ServerRequest req, ServerResponse res) {
        NodeSessions.Session s = sessions.authenticate(req, ledger.now());
        Json.send(res, Status.OK_200, counters(s.id(), s.placementId(), s.accountId()));
    }

    private void byId(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("session_id");
        if (id.length() > 64) {
            throw Problem.notFound("no node session " + id.substring(0, 64) + "…");
        }
        DbRow row = Database.get(db.execute(), "session-by-id", id)
                .orElseThrow(() -> Problem.notFound("no node session " + id));
        String sessionId = Database.str(row, "id");
        Json.send(res, Status.OK_200, counters(sessionId, Database.str(row, "placement_id"),
                Ledger.accountId("node_session", sessionId)));
    }

    private ObjectNode counters(String sessionId, String placementId, String accountId) {
        return db.inTransaction(tx -> {
            ObjectNode o = Json.object();
            o.put("session_id", sessionId);
            o.put("placement_id", placementId);
            o.put("jobs_completed", Database.count(tx, "session-jobs-completed", sessionId));
            o.put("balance_micro_usdc", ledger.available(tx, accountId));
            o.put("pending_micro_usdc", ledger.pending(tx, accountId));
            // the public reputation of the session's identity (its wallet's when linked; docs/trust.md)
            Reputation.Standing standing = reputation.ofSession(tx, sessionId);
            o.put("reputation_score", standing.score());
            o.put("tier", standing.tier().key());
            return o;
        });
    }
}
