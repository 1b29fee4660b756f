package io.earnidle.backend.publishers;

import java.time.Instant;
import java.util.Optional;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.auth.PayoutWalletChanges;
import io.earnidle.backend.auth.PublisherSessions;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.payouts.Payouts;
import io.helidon.dbclient.DbRow;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * A publisher withdraws its available earnings the way a visitor does (docs/payouts.md): an EIP-712 {@code Withdraw}
 * request for the account {@code publisher:<id>}, signed by the publisher's proven payout wallet and paid only to that
 * wallet, recorded by {@link Payouts#request} and sent by the same payout sender.
 * <ul>
 *   <li>{@code POST /api/publisher/withdrawals} (session cookie + CSRF) {@code {amount_micro_usdc, destination,
 *   nonce, deadline, signature}} → 202 and the payout</li>
 *   <li>{@code GET /api/publisher/withdrawals} (session cookie): balances, the next nonce, the minimum and the
 *   history</li>
 *   <li>{@code GET /api/publisher/withdrawals/{id}} (session cookie): one payout of this publisher</li>
 * </ul>
 * The destination must be the payout wallet: a signature obtained by a page that tricks the wallet into signing
 * another destination is useless, and every publisher payout lands in an address the publisher proved it controls.
 */
public record WithdrawalService(Database db, Ledger ledger, PublisherSessions sessions, Payouts payouts,
                                int maxBodyBytes) implements HttpService {
    static final int HISTORY = 50;

    @Override
    public void routing(HttpRules rules) {
        rules.post("/", this::withdraw)
                .get("/", this::summary)
                .get("/{id}", this::one);
    }

    private void withdraw(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        Instant now = ledger.now();
        String wallet = payoutAddress(p.publisherId()).orElseThrow(() -> Problem.conflict(
                "no verified payout wallet: prove one under Payout wallet first (withdrawals are paid only to it)"));
        Payouts.Request r = payouts.parse(Json.readObject(req, maxBodyBytes), now);
        if (!r.destination().equals(wallet)) {
            throw Problem.validation("destination must be your verified payout wallet " + wallet + ", not "
                    + r.destination() + " (publishers are paid only to the wallet they proved)");
        }
        ObjectNode payout = payouts.request(account(p), wallet, r, now, tx -> { });
        Json.sendCreated(req, res, Status.ACCEPTED_202, payout.path("id").asText(), payout);
    }

    private void summary(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.require(req);
        String account = account(p);
        ObjectNode out = db.inTransaction(tx -> {
            ObjectNode o = Json.object();
            o.put("account", account);
            o.put("payout_address", payoutAddress(p.publisherId()).orElse(null));
            o.put("balance_micro_usdc", ledger.available(tx, account));
            o.put("pending_micro_usdc", ledger.pending(tx, account));
            o.put("in_flight_micro_usdc", Payouts.inFlight(tx, account));
            o.put("next_withdraw_nonce", Payouts.nextNonce(tx, account));
            o.put("min_withdrawal_micro_usdc", payouts.settings().minWithdrawalMicroUsdc());
            o.put("chain_id", payouts.chainId());
            o.set("payouts", Payouts.history(tx, account, HISTORY));
            return o;
        });
        Json.send(res, Status.OK_200, out);
    }

    private void one(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.require(req);
        DbRow row = payouts.owned(account(p), req.path().pathParameters().get("id"));
        Json.send(res, Status.OK_200, Payouts.json(row));
    }

    private Optional<String> payoutAddress(String publisherId) {
        PayoutWalletChanges.applyDue(db.execute(), publisherId, ledger.now());
        return Database.get(db.execute(), "pub-by-id", publisherId)
                .map(r -> Database.str(r, "payout_address"))
                .filter(a -> a != null && !a.isEmpty());
    }

    private static String account(PublisherSessions.Principal p) {
        return Ledger.accountId("publisher", p.publisherId());
    }
}
