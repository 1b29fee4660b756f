package io.earnidle.backend.wallets;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.dbclient.DbRow;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Wallet endpoints: {@code POST /api/wallets/siwe/nonce}, {@code POST /api/wallets/siwe/verify},
 * {@code GET /api/wallets/me} and {@code POST /api/wallets/sessions} (link a node session by its token).
 */
public record WalletService(Wallets wallets, Database db, Ledger ledger, int maxBodyBytes, long minWithdrawal,
                            WithdrawalCounters withdrawals) implements HttpService {
    /** The statement the widget puts in its SIWE messages (any statement is accepted). */
    public static final String STATEMENT = "Sign in to Earn Idle to receive your rewards in this wallet.";

    @Override
    public void routing(HttpRules rules) {
        rules.post("/siwe/nonce", this::nonce)
                .post("/siwe/verify", this::verify)
                .get("/me", this::me)
                .post("/sessions", this::linkSession);
    }

    /**
     * host[:port] that SIWE messages must name: the configured domain or public origin's host, else (demo mode
     * only, {@link WalletSettings#forSite}) the Host this request came to.
     */
    public String expectedDomain(ServerRequest req) {
        if (!wallets.settings().siweDomain().isEmpty()) {
            return wallets.settings().siweDomain();
        }
        return req.headers().first(HeaderNames.HOST)
                .orElseThrow(() -> Problem.validation("missing Host header"));
    }

    private void nonce(ServerRequest req, ServerResponse res) {
        Instant now = ledger.now();
        String nonce = wallets.newNonce(now);
        ObjectNode out = Json.object();
        out.put("nonce", nonce);
        out.put("issued_at", now.toString());
        out.put("expires_at", now.plusSeconds(wallets.settings().nonceTtlSeconds()).toString());
        out.put("domain", expectedDomain(req));
        out.put("chain_id", wallets.settings().chainId());
        out.put("statement", STATEMENT);
        res.headers().set(HeaderNames.CACHE_CONTROL, "no-store");
        Json.send(res, Status.CREATED_201, out);
    }

    private void verify(ServerRequest req, ServerResponse res) {
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String message = Fields.requiredString(body, "message", 4096);
        String signature = Fields.requiredString(body, "signature", 200);
        Wallets.Verified v = wallets.verify(message, signature, expectedDomain(req), ledger.now());
        ObjectNode out = Json.object();
        out.put("address", v.address());
        out.put("wallet_token", v.token());
        out.put("expires_at", v.expiresAt().toString());
        out.put("chain_id", wallets.settings().chainId());
        Json.send(res, Status.OK_200, out);
    }

    private void me(ServerRequest req, ServerResponse res) {
        Wallets.Wallet w = wallets.authenticate(req, ledger.now());
        Json.send(res, Status.OK_200, counters(w.address()));
    }

    private void linkSession(ServerRequest req, ServerResponse res) {
        Wallets.Wallet w = wallets.authenticate(req, ledger.now());
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String sessionToken = Fields.requiredString(body, "session_token", 200);
        DbRow session = Database.get(db.execute(), "w-node-session-by-token", Ids.sha256Hex(sessionToken))
                .orElseThrow(() -> Problem.notFound("no node session has this session_token"));
        String sessionId = Database.str(session, "id");
        db.inTransaction(tx -> {
            if (!Wallets.link(tx, sessionId, w.address())) {
                throw Problem.conflict("node session " + sessionId + " is already linked to another wallet");
            }
            wallets.sweep(tx, w.address(), List.of());
            return null;
        });
        Json.send(res, Status.OK_200, counters(w.address()));
    }

    /** The wallet's counters (after sweeping its linked sessions). */
    public ObjectNode counters(String address) {
        return db.inTransaction(tx -> {
            wallets.sweep(tx, address, List.of());
            String account = Wallets.accountIdOf(address);
            ObjectNode o = Json.object();
            o.put("address", address);
            o.put("balance_micro_usdc", ledger.available(tx, account));
            o.put("pending_micro_usdc", wallets.pending(tx, address));
            o.put("in_flight_micro_usdc", withdrawals.inFlight(tx, account));
            o.put("jobs_completed", Database.count(tx, "w-linked-jobs", address));
            o.put("linked_sessions", wallets.linkedSessions(tx, address).size());
            o.put("next_withdraw_nonce", withdrawals.nextNonce(tx, account));
            o.put("min_withdrawal_micro_usdc", minWithdrawal);
            o.put("chain_id", wallets.settings().chainId());
            return o;
        });
    }
}
