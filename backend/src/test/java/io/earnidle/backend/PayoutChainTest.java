package io.earnidle.backend;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.payouts.LocalChain;
import io.earnidle.backend.payouts.PayoutProcessor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static io.earnidle.backend.TestSupport.balance;
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
    private static final long JOB_PRICE = PayoutChainFixture.JOB_PRICE;
    private static PayoutChainFixture fixture;
    private static LocalChain chain;
    private static Credentials treasury;
    private static String token;
    private static Path dataDir;

    @BeforeAll
    static void startChain() throws Exception {
        fixture = PayoutChainFixture.start();
        chain = fixture.chain;
        treasury = fixture.treasury;
        token = fixture.token;
        dataDir = TestSupport.tempDir();
    }

    @AfterAll
    static void stopChain() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
        TestSupport.deleteTree(dataDir);
    }

    private static EarnIdleServer start() {
        return fixture.server(dataDir, Map.of());
    }

    private static Api api(EarnIdleServer s) {
        return PayoutChainFixture.api(s);
    }

    private static long onChain(String owner) throws Exception {
        return fixture.onChain(owner);
    }

    private static long treasuryTxCount() throws Exception {
        return fixture.treasuryTxCount();
    }

    private static JsonNode withdraw(Api api, String walletToken, Credentials key, String dest, long amount,
                                     long nonce) {
        return PayoutChainFixture.withdraw(api, walletToken, key, dest, amount, nonce);
    }

    private static JsonNode payout(Api api, String walletToken, String id) {
        return PayoutChainFixture.payout(api, walletToken, id);
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
            walletToken = PayoutChainFixture.earningWallet(api, s, visitor, 5);
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
