package io.earnidle.backend;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.payouts.Chain;
import io.earnidle.backend.payouts.LocalChain;
import io.earnidle.backend.payouts.PayoutProcessor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.TransactionDecoder;

import static io.earnidle.backend.PayoutChainFixture.api;
import static io.earnidle.backend.PayoutChainFixture.earningWallet;
import static io.earnidle.backend.PayoutChainFixture.payout;
import static io.earnidle.backend.PayoutChainFixture.walletBalance;
import static io.earnidle.backend.PayoutChainFixture.withdraw;
import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The payout sender's defects found by review (issue 23, docs/security.md), each shown failing on a real local
 * chain: a mined transfer is never refunded when the RPC cannot find it by hash; a transfer stuck in the pool is
 * replaced at a higher gas price and lands once; broadcasts the node keeps refusing are bounded (the nonce is
 * cancelled, the payout fails, later payouts go out); stuck rows never keep new requests from being signed.
 */
class PayoutRecoveryTest {
    private static PayoutChainFixture fixture;
    private static final List<Path> DIRS = new ArrayList<>();

    @BeforeAll
    static void startChain() throws Exception {
        fixture = PayoutChainFixture.start();
    }

    @AfterAll
    static void stopChain() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
        for (Path d : DIRS) {
            TestSupport.deleteTree(d);
        }
    }

    private static EarnIdleServer server(Map<String, String> extra) {
        Path dir = TestSupport.tempDir();
        DIRS.add(dir);
        return fixture.server(dir, extra);
    }

    /** The server's own payout records, a chain client and a clock of the test's: another sender instance. */
    private static PayoutProcessor sender(EarnIdleServer s, Chain chain, Ledger ledger) {
        return new PayoutProcessor(s.backend().database(), ledger, s.backend().payouts().payouts(), chain,
                fixture.treasury);
    }

    private static String status(Api api, String wallet, String id) {
        return payout(api, wallet, id).path("status").asText();
    }

    /** An RPC behind a load balancer whose node has not indexed the transaction: lookups by hash find nothing. */
    private static final class LaggingChain extends Chain {
        LaggingChain() {
            super(fixture.chain.rpcUrl(), LocalChain.CHAIN_ID);
        }

        @Override
        public boolean knows(String txHash) {
            return false;
        }
    }

    /** An RPC that refuses every token transfer (while {@code refusing}); anything else goes through. */
    private static final class RefusingChain extends Chain {
        volatile boolean refusing = true;

        RefusingChain() {
            super(fixture.chain.rpcUrl(), LocalChain.CHAIN_ID);
        }

        @Override
        public Optional<String> sendRaw(String rawHex) throws IOException {
            if (refusing && fixture.token.equalsIgnoreCase(TransactionDecoder.decode(rawHex).getTo())) {
                return Optional.of("internal error: upstream unavailable");
            }
            return super.sendRaw(rawHex);
        }
    }

    @Test
    void minedTransferIsNeverRefundedWhenTheRpcCannotFindItByHash() throws Exception {
        try (EarnIdleServer s = server(Map.of()); Chain lagging = new LaggingChain()) {
            Api api = api(s);
            Credentials visitor = WalletTestSupport.newKey();
            String dest = WalletTestSupport.newKey().getAddress().toLowerCase();
            String wallet = earningWallet(api, s, visitor, 2);
            String id = withdraw(api, wallet, visitor, dest, 1_000_000, 1).path("id").asText();
            PayoutProcessor first = s.backend().payouts().processor();
            first.signRequested();
            // broadcast and mined, but this instance stopped before recording it
            assertTrue(first.broadcastOnly(id).isEmpty());
            fixture.chain.mine();
            long balance = walletBalance(api, wallet);

            // the other instance sees the nonce used and cannot find the transaction by hash
            PayoutProcessor other = sender(s, lagging, s.backend().ledger());
            other.runOnce();
            fixture.chain.mine();
            other.runOnce();

            JsonNode p = payout(api, wallet, id);
            assertEquals("confirmed", p.path("status").asText(), p.toString());
            assertEquals(1_000_000, fixture.onChain(dest));
            assertEquals(balance, walletBalance(api, wallet), "the mined payout was not refunded");
            assertEquals(0, TestSupport.balance(s.backend().database(), Ledger.PAYOUTS_IN_FLIGHT_ACCOUNT));
            assertLedgerConsistent(s.backend().database());
        }
    }

    @Test
    void transferStuckInThePoolIsReplacedWithMoreGasAndLandsOnce() throws Exception {
        try (EarnIdleServer s = server(Map.of("earnidle.payouts.bump-after-seconds", "180"))) {
            Api api = api(s);
            Credentials visitor = WalletTestSupport.newKey();
            String dest = WalletTestSupport.newKey().getAddress().toLowerCase();
            String wallet = earningWallet(api, s, visitor, 2);
            TestSupport.MutableClock clock = new TestSupport.MutableClock();
            PayoutProcessor p = sender(s, fixture.chain.chain(), new Ledger(clock, Duration.ZERO));
            long txBefore = fixture.treasuryTxCount();
            fixture.chain.mining(false);
            try {
                String id = withdraw(api, wallet, visitor, dest, 2_000_000, 1).path("id").asText();
                p.runOnce();
                String first = payout(api, wallet, id).path("tx_hash").asText();
                assertEquals("sent", status(api, wallet, id));
                clock.advance(Duration.ofSeconds(179));
                p.runOnce();
                assertEquals(first, payout(api, wallet, id).path("tx_hash").asText(), "not stuck yet");

                clock.advance(Duration.ofSeconds(1));
                p.runOnce();
                String second = payout(api, wallet, id).path("tx_hash").asText();
                assertNotEquals(first, second, "re-signed at a higher gas price");
                assertTrue(fixture.chain.chain().knows(second));

                fixture.chain.mining(true);
                fixture.chain.mine();
                fixture.chain.mine();
                p.runOnce();
                JsonNode done = payout(api, wallet, id);
                assertEquals("confirmed", done.path("status").asText(), done.toString());
                assertEquals(second, done.path("tx_hash").asText(), "the replacement is the one mined");
                assertEquals(2_000_000, fixture.onChain(dest), "paid once");
                assertEquals(txBefore + 1, fixture.treasuryTxCount(), "one nonce used");
                assertLedgerConsistent(s.backend().database());
            } finally {
                fixture.chain.mining(true);
            }
        }
    }

    @Test
    void refusedBroadcastsAreBoundedAndLaterPayoutsStillGoOut() throws Exception {
        try (EarnIdleServer s = server(Map.of("earnidle.payouts.max-broadcast-refusals", "3"));
             RefusingChain refusing = new RefusingChain()) {
            Api api = api(s);
            Credentials visitor = WalletTestSupport.newKey();
            String dest = WalletTestSupport.newKey().getAddress().toLowerCase();
            String wallet = earningWallet(api, s, visitor, 2);
            PayoutProcessor p = sender(s, refusing, s.backend().ledger());
            long balance = walletBalance(api, wallet);
            long txBefore = fixture.treasuryTxCount();
            String a = withdraw(api, wallet, visitor, dest, 1_000_000, 1).path("id").asText();
            for (int round = 1; round <= 2; round++) {
                p.runOnce();
                assertEquals("signed", status(api, wallet, a), "refusal " + round + " of 3: retried");
            }
            p.runOnce(); // third refusal: the nonce is cancelled by a self-transfer, mined at once
            p.runOnce();
            JsonNode failed = payout(api, wallet, a);
            assertEquals("failed", failed.path("status").asText(), failed.toString());
            assertTrue(failed.path("failure_reason").asText().contains("cancellation"), failed.toString());
            assertEquals(balance, walletBalance(api, wallet), "the funds came back");
            assertEquals(txBefore + 1, fixture.treasuryTxCount(), "the cancellation used the nonce");

            refusing.refusing = false;
            String b = withdraw(api, wallet, visitor, dest, 1_500_000, 2).path("id").asText();
            p.runOnce();
            fixture.chain.mine();
            p.runOnce();
            assertEquals("confirmed", status(api, wallet, b));
            assertEquals(1_500_000, fixture.onChain(dest), "only the later payout was paid");
            assertLedgerConsistent(s.backend().database());
        }
    }

    @Test
    void stuckRowsDoNotStarveNewRequests() throws Exception {
        try (EarnIdleServer s = server(Map.of("earnidle.payouts.batch-size", "1",
                "earnidle.payouts.max-broadcast-refusals", "100"));
             RefusingChain refusing = new RefusingChain()) {
            Api api = api(s);
            Credentials visitor = WalletTestSupport.newKey();
            String dest = WalletTestSupport.newKey().getAddress().toLowerCase();
            String wallet = earningWallet(api, s, visitor, 2);
            PayoutProcessor p = sender(s, refusing, s.backend().ledger());
            List<String> stuck = new ArrayList<>();
            for (int i = 1; i <= 4; i++) {
                stuck.add(withdraw(api, wallet, visitor, dest, 100_000, i).path("id").asText());
                p.runOnce();
            }
            for (String id : stuck) {
                assertEquals("signed", status(api, wallet, id), "refused, retried");
            }
            String fresh = withdraw(api, wallet, visitor, dest, 100_000, 5).path("id").asText();
            p.runOnce();
            assertEquals("signed", status(api, wallet, fresh), "signed despite four (batch-size x 4) stuck rows");
        }
    }
}
