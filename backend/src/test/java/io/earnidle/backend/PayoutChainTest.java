package io.earnidle.backend;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.payouts.LocalChain;
import io.earnidle.backend.payouts.PayoutProcessor;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.webclient.http1.Http1Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static io.earnidle.backend.TestSupport.balance;
import static io.earnidle.backend.WalletTestSupport.signWithdraw;
import static io.earnidle.backend.WalletTestSupport.withdrawBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real withdrawals on a real local EVM chain (ganache + the TestUsdc ERC-20, 6 decimals): the recipient's token
 * balance is read on chain. The server is stopped at each dangerous point (after the intent, after signing, after
 * broadcasting) and restarted on the same database: every payout lands exactly once. A transfer that reverts is
 * marked failed and its funds return to the wallet. Several payouts go out in one round.
 */
class PayoutChainTest {
    private static final long JOB_PRICE = 5_000_000;
    private static LocalChain chain;
    private static Credentials treasury;
    private static String token;
    private static Path dataDir;
    private static Path keyFile;

    @BeforeAll
    static void startChain() throws Exception {
        chain = LocalChain.start();
        treasury = Credentials.create(LocalChain.DEV_KEY_0);
        token = chain.deployTestUsdc(treasury, BigInteger.valueOf(1_000_000_000_000L));
        dataDir = TestSupport.tempDir();
        keyFile = dataDir.resolve("treasury.key");
        Files.writeString(keyFile, LocalChain.DEV_KEY_0 + "\n");
    }

    @AfterAll
    static void stopChain() throws Exception {
        if (chain != null) {
            chain.close();
        }
        TestSupport.deleteTree(dataDir);
    }

    private static EarnIdleServer start() {
        Map<String, String> m = new HashMap<>();
        m.put("server.host", "127.0.0.1");
        m.put("server.port", "0");
        m.put("earnidle.data-dir", dataDir.toString());
        m.put("earnidle.rates.per-job-micro-usdc", String.valueOf(JOB_PRICE));
        m.put("earnidle.rates.per-token-micro-usdc", "0");
        m.put("earnidle.payouts.rpc-url", chain.rpcUrl());
        m.put("earnidle.payouts.token-address", token);
        m.put("earnidle.payouts.treasury-key-file", keyFile.toString());
        m.put("earnidle.payouts.min-withdrawal-micro-usdc", "100");
        m.put("earnidle.payouts.confirmations", "2");
        m.put("earnidle.payouts.auto-start", "false");
        // synthetic results, paid unverified and at once, as before verification (docs/trust.md)
        m.put("earnidle.ledger.verification-window-seconds", "0");
        m.put("earnidle.trust.sample-rate", "0");
        // the node leases the customer's jobs at once, without a capability benchmark first (docs/trust.md)
        m.put("earnidle.capability.benchmark.enabled", "false");
        m.put("earnidle.capability.dispatch.preference-wait-ms", "0");
        return EarnIdleServer.start(Config.builder().disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource().sources(ConfigSources.create(m)).build());
    }

    private static Api api(EarnIdleServer s) {
        return new Api(Http1Client.builder().baseUri("http://127.0.0.1:" + s.port()).build());
    }

    private static long onChain(String owner) throws Exception {
        return chain.chain().tokenBalance(token, owner).longValueExact();
    }

    private static long treasuryTxCount() throws Exception {
        return chain.chain().transactionCount(treasury.getAddress(), false).longValueExact();
    }

    private static JsonNode withdraw(Api api, String walletToken, Credentials key, String dest, long amount,
                                     long nonce) {
        long deadline = System.currentTimeMillis() / 1000 + 600;
        String account = Ledger.accountId("wallet", key.getAddress().toLowerCase());
        Resp r = api.post("/api/payouts", walletToken, withdrawBody(amount, dest, nonce, deadline,
                signWithdraw(key.getEcKeyPair(), LocalChain.CHAIN_ID, account, dest, amount, nonce, deadline)));
        assertEquals(202, r.status(), r.text());
        return r.json();
    }

    private static JsonNode payout(Api api, String walletToken, String id) {
        Resp r = api.get("/api/payouts/" + id, walletToken);
        assertEquals(200, r.status(), r.text());
        return r.json();
    }

    /** Rounds until nothing is open (mining blocks for the confirmations). */
    private static void settle(PayoutProcessor p) throws Exception {
        p.runOnce();
        chain.mine();
        p.runOnce();
    }

    @Test
    void withdrawalsLandOnChainExactlyOnceAcrossCrashes() throws Exception {
        Credentials visitor = WalletTestSupport.newKey();
        String dest = WalletTestSupport.newKey().getAddress().toLowerCase();
        String walletToken;
        long earned;
        long sentTotal = 0;
        long txBefore = treasuryTxCount();

        try (EarnIdleServer s = start()) {
            Api api = api(s);
            walletToken = WalletTestSupport.signIn(api, visitor, s.backend().ledger().now());
            Resp reg = api.post("/api/nodes", null, """
                    {"placement_id":"demo-placement","capabilities":{},"limits":{},"wallet_token":"%s"}"""
                    .formatted(walletToken));
            assertEquals(201, reg.status(), reg.text());
            String node = reg.json().path("session_token").asText();
            for (int i = 0; i < 5; i++) {
                api.complete(node, api.submit("job " + i, 4).path("id").asText());
            }
            earned = 5 * Ledger.split(JOB_PRICE, 1000, 2000).visitor();
            assertEquals(earned, api.get("/api/wallets/me", walletToken).json().path("balance_micro_usdc").asLong());

            // crash 1: the intent is recorded, nothing was sent
            JsonNode a = withdraw(api, walletToken, visitor, dest, 1_000_000, 1);
            assertEquals("requested", a.path("status").asText());
        }
        try (EarnIdleServer s = start()) {
            Api api = api(s);
            PayoutProcessor p = s.backend().payouts().processor();
            settle(p);
            sentTotal += 1_000_000;
            assertEquals(sentTotal, onChain(dest));
            assertEquals(txBefore + 1, treasuryTxCount());

            // crash 2: signed (nonce and raw transaction stored) but not broadcast
            JsonNode b = withdraw(api, walletToken, visitor, dest, 2_000_000, 2);
            assertEquals(List.of(b.path("id").asText()), p.signRequested());
            assertEquals("signed", payout(api, walletToken, b.path("id").asText()).path("status").asText());
        }
        try (EarnIdleServer s = start()) {
            Api api = api(s);
            PayoutProcessor p = s.backend().payouts().processor();
            settle(p);
            sentTotal += 2_000_000;
            assertEquals(sentTotal, onChain(dest));
            assertEquals(txBefore + 2, treasuryTxCount());

            // crash 3: broadcast, but the server died before recording it
            JsonNode c = withdraw(api, walletToken, visitor, dest, 3_000_000, 3);
            p.signRequested();
            assertTrue(p.broadcastOnly(c.path("id").asText()).isEmpty());
            assertEquals("signed", payout(api, walletToken, c.path("id").asText()).path("status").asText());
        }
        try (EarnIdleServer s = start()) {
            Api api = api(s);
            PayoutProcessor p = s.backend().payouts().processor();
            p.runOnce();
            // two confirmations needed: mined in one block, not yet confirmed
            List<JsonNode> history = new ArrayList<>();
            api.get("/api/payouts", walletToken).json().path("payouts").forEach(history::add);
            assertEquals("sent", history.get(0).path("status").asText(), history.toString());
            chain.mine();
            p.runOnce();
            sentTotal += 3_000_000;
            assertEquals(sentTotal, onChain(dest), "sent once, not twice");
            assertEquals(txBefore + 3, treasuryTxCount());

            // a batch: three payouts in one round
            String dest2 = WalletTestSupport.newKey().getAddress().toLowerCase();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids.add(withdraw(api, walletToken, visitor, dest2, 1_000_000 + i, 10 + i).path("id").asText());
            }
            settle(p);
            assertEquals(3_000_003, onChain(dest2));
            for (String id : ids) {
                JsonNode po = payout(api, walletToken, id);
                assertEquals("confirmed", po.path("status").asText(), po.toString());
                assertNotNull(po.path("tx_hash").asText());
                assertTrue(po.path("tx_hash").asText().matches("0x[0-9a-f]{64}"), po.toString());
                assertTrue(po.path("block_number").asLong() > 0);
            }
            sentTotal += 3_000_003;

            // a transfer that reverts (the treasury holds too little USDC) fails and returns the funds
            String sink = WalletTestSupport.newKey().getAddress();
            long treasuryHolds = onChain(treasury.getAddress().toLowerCase());
            chain.transferToken(treasury, token, sink, BigInteger.valueOf(treasuryHolds - 500_000));
            long before = api.get("/api/wallets/me", walletToken).json().path("balance_micro_usdc").asLong();
            JsonNode d = withdraw(api, walletToken, visitor, dest, 4_000_000, 20);
            assertEquals(before - 4_000_000,
                    api.get("/api/wallets/me", walletToken).json().path("balance_micro_usdc").asLong());
            settle(p);
            JsonNode failed = payout(api, walletToken, d.path("id").asText());
            assertEquals("failed", failed.path("status").asText(), failed.toString());
            assertTrue(failed.path("failure_reason").asText().contains("reverted"), failed.toString());
            assertEquals(before, api.get("/api/wallets/me", walletToken).json().path("balance_micro_usdc").asLong());
            assertEquals(6_000_000, onChain(dest), "the failed payout moved nothing");

            JsonNode me = api.get("/api/wallets/me", walletToken).json();
            assertEquals(earned - sentTotal, me.path("balance_micro_usdc").asLong());
            assertEquals(0, me.path("in_flight_micro_usdc").asLong());
            assertEquals(0, balance(s.backend().database(), Ledger.PAYOUTS_IN_FLIGHT_ACCOUNT));
            assertEquals(sentTotal, balance(s.backend().database(), Ledger.CHAIN_PAYOUTS_ACCOUNT));
            assertLedgerConsistent(s.backend().database());
        }
    }
}
