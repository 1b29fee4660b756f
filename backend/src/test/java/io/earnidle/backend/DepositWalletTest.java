package io.earnidle.backend;

import java.nio.file.Path;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A customer proves a deposit wallet with SIWE under its API key ({@code POST /api/deposits/wallets}): the API key is
 * required, the signature must be the wallet's, the nonce is single-use, a wallet belongs to one customer, and no
 * wallet bearer token is handed out on the way.
 */
class DepositWalletTest {
    private Path dir;
    private EarnIdleServer server;
    private Api api;

    @BeforeEach
    void start() {
        dir = TestSupport.tempDir();
        server = EarnIdleServer.start(TestSupport.config(dir, Map.of("server.port", "0", "server.host", "127.0.0.1")));
        api = new Api(TestSupport.ownClient("http://127.0.0.1:" + server.port()));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        TestSupport.deleteTree(dir);
    }

    /** A signed SIWE message for {@code key} on a fresh nonce, signed by {@code signer}. */
    private String body(Credentials key, Credentials signer) {
        JsonNode nonce = api.post("/api/wallets/siwe/nonce", null, "{}").json();
        String text = WalletTestSupport.siwe(key, nonce.path("domain").asText(), nonce.path("chain_id").asLong(),
                nonce.path("nonce").asText(), server.backend().ledger().now()).format();
        return """
                {"message":%s,"signature":"%s"}""".formatted(TestSupport.quote(text),
                WalletTestSupport.personalSign(signer, text));
    }

    /**
     * A second customer with its own API key: the key is stored as {@code customers.api_key_sha256} and, where the
     * {@code api_keys} table exists (customer accounts, V9), there too.
     */
    private void addCustomer(String id, String key) {
        Database db = server.backend().database();
        var now = Database.ts(server.backend().ledger().now());
        db.execute().namedInsert("insert-customer", id, "Customer " + id, Ids.sha256Hex(key), now);
        if (TestSupport.count(db, "SELECT COUNT(*) AS n FROM information_schema.tables WHERE LOWER(table_name) = "
                + "'api_keys'") > 0) {
            db.execute().insert("INSERT INTO api_keys (id, customer_id, name, prefix, key_sha256, created_at) "
                    + "VALUES (?, ?, ?, ?, ?, ?)", "key_" + id, id, "test", key.substring(0, 4), Ids.sha256Hex(key),
                    now);
        }
    }

    @Test
    void aCustomerProvesAWalletOnce() {
        Credentials wallet = WalletTestSupport.newKey();
        String address = wallet.getAddress().toLowerCase();
        api.post("/api/deposits/wallets", null, body(wallet, wallet)).problem(401, "unauthorized");
        api.post("/api/deposits/wallets", "not-a-key", body(wallet, wallet)).problem(401, "unauthorized");
        JsonNode p = api.post("/api/deposits/wallets", CUSTOMER_KEY, body(wallet, WalletTestSupport.newKey()))
                .problem(401, "unauthorized");
        assertEquals(true, p.path("detail").asText().contains("not by " + address), p.toString());

        String signed = body(wallet, wallet);
        Resp ok = api.post("/api/deposits/wallets", CUSTOMER_KEY, signed);
        assertEquals(201, ok.status(), ok.text());
        assertEquals(address, ok.json().path("address").asText());
        assertFalse(ok.json().path("watching").asBoolean(), "no chain is configured here");
        assertFalse(ok.json().has("wallet_token"));
        api.post("/api/deposits/wallets", CUSTOMER_KEY, signed).problem(401, "unauthorized"); // replayed nonce
        assertEquals(0, TestSupport.count(server.backend().database(),
                "SELECT COUNT(*) AS n FROM wallet_sessions WHERE address = ?", address), "no wallet token issued");
        assertEquals(201, api.post("/api/deposits/wallets", CUSTOMER_KEY, body(wallet, wallet)).status(),
                "proving it again is fine");

        addCustomer("customer-b", "customer-b-key");
        JsonNode taken = api.post("/api/deposits/wallets", "customer-b-key", body(wallet, wallet))
                .problem(409, "conflict");
        assertEquals(true, taken.path("detail").asText().contains("another customer"), taken.toString());
        Resp mine = api.get("/api/deposits/wallets", "customer-b-key");
        assertEquals(200, mine.status(), mine.text());
        assertEquals(0, mine.json().path("wallets").size());

        JsonNode list = api.get("/api/deposits/wallets", CUSTOMER_KEY).json().path("wallets");
        assertEquals(1, list.size(), list.toString());
        assertEquals(address, list.get(0).path("address").asText());
        api.get("/api/deposits", null).problem(401, "unauthorized");
        assertEquals(0, api.get("/api/deposits", CUSTOMER_KEY).json().path("deposits").size());
    }
}
