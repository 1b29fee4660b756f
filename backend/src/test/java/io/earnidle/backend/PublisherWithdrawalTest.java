package io.earnidle.backend;

import java.math.BigInteger;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.payouts.LocalChain;
import io.earnidle.backend.payouts.PayoutProcessor;
import io.earnidle.backend.publishers.PortalClient;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import io.helidon.webserver.testing.junit5.SetUpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static io.earnidle.backend.WalletTestSupport.signWithdraw;
import static io.earnidle.backend.WalletTestSupport.withdrawBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Publishers withdraw like visitors, to their proven payout wallet: every refusal of
 * {@code POST /api/publisher/withdrawals} (no session, no CSRF token, no payout wallet, pending credits, below the
 * minimum, expired deadline, wrong signer, another destination, a signature for another account, more than
 * available, a replayed nonce), and a real payout on ganache whose USDC the test reads on chain. The publisher's
 * credits come from real jobs on a placement of its own.
 */
@ServerTest
class PublisherWithdrawalTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final long JOB_PRICE = 5_000_000;
    private static final long PER_JOB = Ledger.split(JOB_PRICE, 1000, 2000).publisher(); // 900 000
    private static final String PASSWORD = "correct horse battery";
    private static Path dataDir;
    private static LocalChain chain;
    private static String token;
    private static Backend backend;

    private final Api api;
    private final String base;

    PublisherWithdrawalTest(Http1Client client, URI uri) {
        this.api = new Api(client);
        this.base = uri.toString().replaceAll("/$", "");
    }

    @SetUpServer
    static void server(WebServerConfig.Builder server) {
        server.host("127.0.0.1");
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) throws Exception {
        dataDir = TestSupport.tempDir();
        chain = LocalChain.start();
        Credentials treasury = Credentials.create(LocalChain.DEV_KEY_0);
        token = chain.deployTestUsdc(treasury, BigInteger.valueOf(1_000_000_000_000L));
        Path keyFile = dataDir.resolve("treasury.key");
        Files.writeString(keyFile, LocalChain.DEV_KEY_0 + "\n");
        backend = Backend.create(TestSupport.config(dataDir, Map.of(
                "earnidle.ledger.verification-window-seconds", "3600",
                "earnidle.trust.sample-rate", "0", // synthetic results, paid unverified (docs/trust.md)
                "earnidle.rates.per-job-micro-usdc", String.valueOf(JOB_PRICE),
                "earnidle.rates.per-token-micro-usdc", "0",
                "earnidle.payouts.rpc-url", chain.rpcUrl(),
                "earnidle.payouts.token-address", token,
                "earnidle.payouts.treasury-key-file", keyFile.toString(),
                "earnidle.payouts.min-withdrawal-micro-usdc", "1000000",
                "earnidle.payouts.auto-start", "false")), CLOCK);
        backend.routing(routing);
    }

    @AfterAll
    static void close() throws Exception {
        if (backend != null) {
            backend.close();
        }
        if (chain != null) {
            chain.close();
        }
        TestSupport.deleteTree(dataDir);
    }

    private PortalClient newPublisher() {
        return new PortalClient(base).signUp("pub" + System.nanoTime() + "@example.org", PASSWORD);
    }

    private static String publisherId(PortalClient c) {
        return c.get("/api/publisher/me").ok(200).json().path("id").asText();
    }

    /** Proves {@code key} as the publisher's payout wallet (the portal's personal_sign challenge). */
    private static void proveWallet(PortalClient c, Credentials key) {
        JsonNode ch = c.post("/api/publisher/payout-wallet/challenge",
                "{\"address\":\"" + key.getAddress() + "\"}").ok(200).json();
        String message = ch.path("message").asText();
        c.post("/api/publisher/payout-wallet", "{\"challenge_id\":\"%s\",\"message\":%s,\"signature\":\"%s\"}"
                .formatted(ch.path("challenge_id").asText(), TestSupport.quote(message),
                        WalletTestSupport.personalSign(key, message))).ok(200);
    }

    /** Real jobs on a placement of this publisher: the publisher's share is credited (pending first). */
    private void earn(String publisherId, int jobs) {
        String placement = "pl-" + Long.toHexString(System.nanoTime());
        backend.database().execute().namedInsert("insert-placement", placement, publisherId, "Withdraw test", 2000,
                "active", "{}", Database.ts(CLOCK.instant()));
        Resp reg = api.post("/api/nodes", null, """
                {"placement_id":"%s","capabilities":{},"limits":{}}""".formatted(placement));
        assertEquals(201, reg.status(), reg.text());
        String node = reg.json().path("session_token").asText();
        for (int i = 0; i < jobs; i++) {
            api.complete(node, api.submit("publisher job " + i, 4).path("id").asText());
        }
    }

    private static String body(Credentials signer, String account, String destination, long amount, long nonce,
                               long deadline) {
        return withdrawBody(amount, destination, nonce, deadline,
                signWithdraw(signer.getEcKeyPair(), LocalChain.CHAIN_ID, account, destination, amount, nonce, deadline));
    }

    private static long deadline() {
        return CLOCK.instant().getEpochSecond() + 600;
    }

    @Test
    void everyRefusalOfAPublisherWithdrawal() {
        Credentials wallet = WalletTestSupport.newKey();
        String address = wallet.getAddress().toLowerCase();

        // not signed in
        PortalClient anon = new PortalClient(base);
        String anyBody = withdrawBody(1_000_000, address, 1, deadline(), "0x00");
        anon.post("/api/publisher/withdrawals", anyBody).problem(401, "unauthorized");
        anon.get("/api/publisher/withdrawals").problem(401, "unauthorized");

        PortalClient c = newPublisher();
        String pub = publisherId(c);
        String account = Ledger.accountId("publisher", pub);

        // no CSRF token
        String csrf = c.csrf;
        c.csrf = null;
        c.post("/api/publisher/withdrawals", body(wallet, account, address, 1_000_000, 1, deadline()))
                .problem(403, "csrf");
        c.csrf = csrf;

        // no verified payout wallet yet
        assertTrue(c.post("/api/publisher/withdrawals", body(wallet, account, address, 1_000_000, 1, deadline()))
                .problem(409, "conflict").contains("payout wallet"));

        proveWallet(c, wallet);
        earn(pub, 4);
        JsonNode summary = c.get("/api/publisher/withdrawals").ok(200).json();
        assertEquals(account, summary.path("account").asText());
        assertEquals(address, summary.path("payout_address").asText());
        assertEquals(0, summary.path("balance_micro_usdc").asLong());
        assertEquals(4 * PER_JOB, summary.path("pending_micro_usdc").asLong());
        assertEquals(1_000_000, summary.path("min_withdrawal_micro_usdc").asLong());
        assertEquals(LocalChain.CHAIN_ID, summary.path("chain_id").asLong());
        assertEquals(0, summary.path("next_withdraw_nonce").asLong());

        // pending credits cannot be withdrawn
        assertTrue(c.post("/api/publisher/withdrawals", body(wallet, account, address, 1_000_000, 1, deadline()))
                .problem(402, "insufficient-funds").contains("available balance 0"));

        CLOCK.advance(java.time.Duration.ofSeconds(3601)); // the verification window closes
        long available = c.get("/api/publisher/withdrawals").json().path("balance_micro_usdc").asLong();
        assertEquals(4 * PER_JOB, available);

        // below the configured minimum
        assertTrue(c.post("/api/publisher/withdrawals", body(wallet, account, address, 999_999, 1, deadline()))
                .problem(400, "validation").contains("minimum"));
        // an expired deadline
        long past = CLOCK.instant().getEpochSecond() - 1;
        assertTrue(c.post("/api/publisher/withdrawals", body(wallet, account, address, 1_000_000, 1, past))
                .problem(400, "validation").contains("has passed"));
        // signed by another key
        Credentials other = WalletTestSupport.newKey();
        assertTrue(c.post("/api/publisher/withdrawals", body(other, account, address, 1_000_000, 1, deadline()))
                .problem(401, "unauthorized").contains(other.getAddress().toLowerCase()));
        // signed by the wallet, but paying somewhere else
        String elsewhere = other.getAddress().toLowerCase();
        assertTrue(c.post("/api/publisher/withdrawals", body(wallet, account, elsewhere, 1_000_000, 1, deadline()))
                .problem(400, "validation").contains("verified payout wallet"));
        // the wallet's signature for its own visitor account does not move the publisher's money
        assertEquals(401, c.post("/api/publisher/withdrawals",
                body(wallet, Ledger.accountId("wallet", address), address, 1_000_000, 1, deadline())).status());
        // more than available
        assertTrue(c.post("/api/publisher/withdrawals", body(wallet, account, address, available + 1, 1, deadline()))
                .problem(402, "insufficient-funds").contains(String.valueOf(available)));
        // nothing was recorded by any refusal
        assertEquals(0, c.get("/api/publisher/withdrawals").json().path("payouts").size());

        // accepted, then replayed
        String ok = body(wallet, account, address, 1_000_000, 7, deadline());
        PortalClient.Resp accepted = c.post("/api/publisher/withdrawals", ok).ok(202);
        JsonNode payout = accepted.json();
        assertEquals("requested", payout.path("status").asText());
        assertEquals(address, payout.path("destination").asText());
        assertEquals("/api/publisher/withdrawals/" + payout.path("id").asText(), accepted.header("Location"));
        assertTrue(c.post("/api/publisher/withdrawals", ok).problem(409, "conflict").contains("already used"));

        summary = c.get("/api/publisher/withdrawals").json();
        assertEquals(available - 1_000_000, summary.path("balance_micro_usdc").asLong());
        assertEquals(1_000_000, summary.path("in_flight_micro_usdc").asLong());
        assertEquals(8, summary.path("next_withdraw_nonce").asLong());
        assertEquals(1, summary.path("payouts").size());
        assertEquals(payout.path("id").asText(), c.get(accepted.header("Location")).ok(200).json().path("id").asText());
        // another publisher sees neither the payout nor a way to spend this one's balance
        PortalClient stranger = newPublisher();
        stranger.get(accepted.header("Location")).problem(404, "not-found");
        proveWallet(stranger, wallet); // the same wallet may be proven by two publishers; the account still differs
        stranger.post("/api/publisher/withdrawals", body(wallet, account, address, 1_000_000, 8, deadline()))
                .problem(401, "unauthorized");

        JsonNode dash = c.get("/api/publisher/dashboard").ok(200).json();
        assertEquals(available - 1_000_000, dash.path("balance_micro_usdc").asLong());
        assertEquals(1_000_000, dash.path("in_flight_micro_usdc").asLong());
        assertEquals(payout.path("id").asText(), dash.path("payouts").get(0).path("id").asText());
        assertEquals("requested", dash.path("payouts").get(0).path("status").asText());
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aPublisherWithdrawalIsPaidOnChainToThePayoutWallet() throws Exception {
        Credentials wallet = WalletTestSupport.newKey();
        String address = wallet.getAddress().toLowerCase();
        PortalClient c = newPublisher();
        String pub = publisherId(c);
        String account = Ledger.accountId("publisher", pub);
        proveWallet(c, wallet);
        earn(pub, 3);
        CLOCK.advance(java.time.Duration.ofSeconds(3601));
        long earned = 3 * PER_JOB;
        assertEquals(earned, c.get("/api/publisher/withdrawals").json().path("balance_micro_usdc").asLong());

        JsonNode payout = c.post("/api/publisher/withdrawals", body(wallet, account, address, earned, 0, deadline()))
                .ok(202).json();
        PayoutProcessor sender = backend.payouts().processor();
        sender.runOnce();
        chain.mine();
        sender.runOnce();

        assertEquals(earned, chain.chain().tokenBalance(token, address).longValueExact(), "USDC on chain");
        JsonNode done = c.get("/api/publisher/withdrawals/" + payout.path("id").asText()).ok(200).json();
        assertEquals("confirmed", done.path("status").asText(), done.toString());
        assertTrue(done.path("tx_hash").asText().matches("0x[0-9a-f]{64}"), done.toString());
        assertTrue(chain.chain().receipt(done.path("tx_hash").asText()).orElseThrow().isStatusOK());
        JsonNode summary = c.get("/api/publisher/withdrawals").json();
        assertEquals(0, summary.path("balance_micro_usdc").asLong());
        assertEquals(0, summary.path("in_flight_micro_usdc").asLong());
        JsonNode dash = c.get("/api/publisher/dashboard").json();
        assertEquals("confirmed", dash.path("payouts").get(0).path("status").asText());
        assertEquals(done.path("tx_hash").asText(), dash.path("payouts").get(0).path("tx_hash").asText());
        assertLedgerConsistent(backend.database());
    }
}
