package io.earnidle.backend.deposits;

import java.util.Optional;
import java.util.function.Function;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Bearer;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.wallets.WalletService;
import io.helidon.dbclient.DbRow;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Customer deposit endpoints, authenticated by the customer's API key ({@code Authorization: Bearer}):
 * {@code POST /api/deposits/wallets} proves a wallet with a SIWE message (nonce from
 * {@code POST /api/wallets/siwe/nonce}), {@code GET /api/deposits/wallets} lists the proved wallets and where to send
 * USDC, {@code GET /api/deposits} the balance and the deposits seen on chain.
 *
 * @param customerOfKey the customer id of an API key (the keys of {@code /api/jobs} and {@code /v1})
 */
public record DepositService(Deposits deposits, DepositSettings settings, WalletService walletService,
                             Function<String, Optional<String>> customerOfKey, int maxBodyBytes)
        implements HttpService {
    private static final int HISTORY = 100;

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::history)
                .post("/wallets", this::prove)
                .get("/wallets", this::wallets);
    }

    private String customer(ServerRequest req) {
        return customerOfKey.apply(Bearer.token(req)).orElseThrow(() -> Problem.unauthorized("unknown API key"));
    }

    private void prove(ServerRequest req, ServerResponse res) {
        String customer = customer(req);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String message = Fields.requiredString(body, "message", 4096);
        String signature = Fields.requiredString(body, "signature", 200);
        Ledger ledger = deposits.ledger();
        String address = walletService.wallets().prove(message, signature, walletService.expectedDomain(req),
                ledger.now());
        try {
            deposits.linkWallet(address, customer, ledger.now());
        } catch (Deposits.WalletTaken e) {
            throw Problem.conflict(e.getMessage());
        }
        ObjectNode out = where();
        out.put("address", address);
        Json.send(res, Status.CREATED_201, out);
    }

    private void wallets(ServerRequest req, ServerResponse res) {
        String customer = customer(req);
        ObjectNode out = where();
        ArrayNode list = out.putArray("wallets");
        for (DbRow r : Database.list(deposits.db().execute(), "dep-customer-wallets", customer)) {
            Database.copy(list.addObject(), r, "address").put("proved_at",
                    Database.instant(r, "proved_at").toString());
        }
        Json.send(res, Status.OK_200, out);
    }

    private void history(ServerRequest req, ServerResponse res) {
        String customer = customer(req);
        ObjectNode out = where();
        long balance = deposits.db().inTransaction(tx -> deposits.ledger().available(tx,
                Ledger.accountId("customer", customer)));
        out.put("balance_micro_usdc", balance);
        ArrayNode list = out.putArray("deposits");
        for (DbRow r : Database.list(deposits.db().execute(), "dep-of-customer", customer, HISTORY)) {
            Database.copy(list.addObject(), r, "id", "tx_hash", "log_index", "block_number", "from_address",
                    "amount_micro_usdc", "status").put("created_at", Database.instant(r, "created_at").toString());
        }
        Json.send(res, Status.OK_200, out);
    }

    /** Where and how to deposit: chain, token, treasury and the confirmations a deposit waits for. */
    private ObjectNode where() {
        ObjectNode o = Json.object();
        o.put("chain_id", settings.chainId());
        o.put("token_address", settings.tokenAddress());
        o.put("treasury_address", settings.treasuryAddress());
        o.put("confirmations", settings.confirmations());
        o.put("watching", settings.watcherConfigured());
        return o;
    }
}
