package io.earnidle.backend.payouts;

import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.wallets.Wallets;
import io.helidon.dbclient.DbRow;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code GET /api/payouts/config} (public: chain, token, minimum, the EIP-712 domain and types),
 * {@code POST /api/payouts} (a wallet's signed withdraw request), {@code GET /api/payouts} (the wallet's history)
 * and {@code GET /api/payouts/{id}}.
 */
public record PayoutService(Payouts payouts, Wallets wallets, Ledger ledger, int maxBodyBytes) implements HttpService {
    @Override
    public void routing(HttpRules rules) {
        rules.get("/config", this::config)
                .post("/", this::withdraw)
                .get("/", this::history)
                .get("/{id}", this::one);
    }

    private void config(ServerRequest req, ServerResponse res) {
        ObjectNode o = Json.object();
        o.put("chain_id", payouts.chainId());
        o.put("token_address", payouts.settings().tokenAddress());
        o.put("token_decimals", 6);
        o.put("min_withdrawal_micro_usdc", payouts.settings().minWithdrawalMicroUsdc());
        o.put("max_deadline_seconds", payouts.settings().maxDeadlineSeconds());
        o.put("confirmations", payouts.settings().confirmations());
        ObjectNode eip712 = o.putObject("eip712");
        eip712.set("domain", WithdrawTypedData.domain(payouts.chainId()));
        eip712.set("types", WithdrawTypedData.types());
        eip712.put("primary_type", "Withdraw");
        Json.send(res, Status.OK_200, o);
    }

    private void withdraw(ServerRequest req, ServerResponse res) {
        var now = ledger.now();
        Wallets.Wallet w = wallets.authenticate(req, now);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        Payouts.Request r = payouts.parse(body, now);
        ObjectNode payout = payouts.request(w.accountId(), w.address(), r, now,
                tx -> wallets.sweep(tx, w.address(), List.of(Ledger.PAYOUTS_IN_FLIGHT_ACCOUNT)));
        Json.sendCreated(req, res, Status.ACCEPTED_202, payout.path("id").asText(), payout);
    }

    private void history(ServerRequest req, ServerResponse res) {
        Wallets.Wallet w = wallets.authenticate(req, ledger.now());
        ObjectNode o = Json.object();
        o.set("payouts", payouts.history(w.accountId(), 100));
        Json.send(res, Status.OK_200, o);
    }

    private void one(ServerRequest req, ServerResponse res) {
        Wallets.Wallet w = wallets.authenticate(req, ledger.now());
        DbRow p = payouts.owned(w.accountId(), req.path().pathParameters().get("id"));
        Json.send(res, Status.OK_200, Payouts.json(p));
    }
}
