package io.earnidle.backend;

import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.deposits.DepositSettings;
import io.earnidle.backend.deposits.DepositWatcher;
import io.earnidle.backend.payouts.Chain;
import io.earnidle.backend.payouts.LocalChain;
import io.helidon.config.Config;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Customer deposits on a real local EVM chain (ganache + the TestUsdc ERC-20 the payouts use): a customer proves a
 * wallet with SIWE under its API key, sends USDC to the treasury, and is credited once the transfer has the configured
 * confirmations: not before, never twice (more scans, a restart on the same database), not for a transfer that a
 * reorganisation shorter than the depth took back (ganache evm_snapshot / evm_revert), once for that same transaction
 * mined again. A transfer from a wallet nobody proved is recorded, not credited. A reorganisation deeper than the
 * depth stops the watcher instead of crediting on a chain it no longer matches.
 */
class DepositChainTest {
    private static final int CONFIRMATIONS = 3;
    private static LocalChain chain;
    private static Credentials treasury;
    private static String token;

    @BeforeAll
    static void startChain() throws Exception {
        chain = LocalChain.start();
        treasury = Credentials.create(LocalChain.DEV_KEY_0);
        token = chain.deployTestUsdc(treasury, BigInteger.valueOf(1_000_000_000_000L));
    }

    @AfterAll
    static void stopChain() {
        if (chain != null) {
            chain.close();
        }
    }

    private static EarnIdleServer start(Path dir) {
        return EarnIdleServer.start(config(dir));
    }

    private static Config config(Path dir) {
        return TestSupport.config(dir, Map.of("server.port", "0", "server.host", "127.0.0.1",
                "earnidle.deposits.rpc-url", chain.rpcUrl(),
                "earnidle.deposits.token-address", token,
                "earnidle.deposits.treasury-address", treasury.getAddress(),
                "earnidle.deposits.confirmations", String.valueOf(CONFIRMATIONS),
                "earnidle.deposits.auto-start", "false"));
    }

    private static Api api(EarnIdleServer s) {
        return new Api(TestSupport.ownClient("http://127.0.0.1:" + s.port()));
    }

    private static DepositWatcher watcher(EarnIdleServer s) {
        return s.backend().deposits().watcher();
    }

    /** A fresh wallet with ether for gas and {@code units} of the token. */
    private static Credentials fundedWallet(long units) throws IOException {
        Credentials key = WalletTestSupport.newKey();
        Chain c = chain.chain();
        Chain.Signed eth = c.sign(treasury, c.transactionCount(treasury.getAddress(), true), c.gasPrice(),
                BigInteger.valueOf(21_000), key.getAddress(), BigInteger.TEN.pow(18), "");
        assertEquals(Optional.empty(), c.sendRaw(eth.rawHex()));
        chain.awaitReceipt(eth.hash());
        assertTrue(chain.transferToken(treasury, token, key.getAddress(), BigInteger.valueOf(units)).isStatusOK());
        return key;
    }

    /** A signed (not yet sent) USDC transfer to the treasury. */
    private static Chain.Signed deposit(Credentials from, long units) throws IOException {
        Chain c = chain.chain();
        return c.sign(from, c.transactionCount(from.getAddress(), true), c.gasPrice(), BigInteger.valueOf(120_000),
                token, BigInteger.ZERO, Chain.transferData(treasury.getAddress(), BigInteger.valueOf(units)));
    }

    private static void send(Chain.Signed tx) throws IOException {
        assertEquals(Optional.empty(), chain.chain().sendRaw(tx.rawHex()));
        assertTrue(chain.awaitReceipt(tx.hash()).isStatusOK());
    }

    private static void mine(int blocks) throws IOException {
        for (int i = 0; i < blocks; i++) {
            chain.mine();
        }
    }

    /** A ganache JSON-RPC call (evm_snapshot, evm_revert) that web3j has no method for. */
    private static JsonNode rpc(String method, String paramsJson) throws Exception {
        HttpResponse<String> r;
        try (HttpClient http = HttpClient.newHttpClient()) {
            r = http.send(HttpRequest.newBuilder(URI.create(chain.rpcUrl()))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("""
                            {"jsonrpc":"2.0","id":1,"method":"%s","params":%s}""".formatted(method, paramsJson)))
                    .build(), HttpResponse.BodyHandlers.ofString());
        }
        JsonNode body = TestSupport.MAPPER.readTree(r.body());
        assertTrue(body.has("result"), r.body());
        return body.path("result");
    }

    /** Proves the wallet for the demo customer over the API (SIWE nonce, message, signature). */
    private static JsonNode prove(EarnIdleServer s, Credentials key) {
        Api api = api(s);
        JsonNode nonce = api.post("/api/wallets/siwe/nonce", null, "{}").json();
        String text = WalletTestSupport.siwe(key, nonce.path("domain").asText(), nonce.path("chain_id").asLong(),
                nonce.path("nonce").asText(), s.backend().ledger().now()).format();
        TestSupport.Resp r = api.post("/api/deposits/wallets", CUSTOMER_KEY, """
                {"message":%s,"signature":"%s"}""".formatted(TestSupport.quote(text),
                WalletTestSupport.personalSign(key, text)));
        assertEquals(201, r.status(), r.text());
        assertEquals(key.getAddress().toLowerCase(), r.json().path("address").asText());
        assertEquals(treasury.getAddress().toLowerCase(), r.json().path("treasury_address").asText());
        assertEquals(CONFIRMATIONS, r.json().path("confirmations").asInt());
        return r.json();
    }

    private static JsonNode deposits(EarnIdleServer s) {
        TestSupport.Resp r = api(s).get("/api/deposits", CUSTOMER_KEY);
        assertEquals(200, r.status(), r.text());
        return r.json();
    }

    private static long balance(EarnIdleServer s) {
        return deposits(s).path("balance_micro_usdc").asLong();
    }

    @Test
    void confirmedTransfersFromProvedWalletsAreCreditedOnceAcrossRestartsAndShallowReorgs() throws Exception {
        Path dir = TestSupport.tempDir();
        Credentials customer = fundedWallet(50_000_000);
        Credentials stranger = fundedWallet(50_000_000);
        long before;
        try (EarnIdleServer s = start(dir)) {
            assertEquals(0, watcher(s).runOnce()); // the cursor starts at the chain's latest block
            prove(s, customer);
            before = balance(s);

            send(deposit(stranger, 3_000_000)); // from a wallet no customer proved
            send(deposit(customer, 7_000_000)); // one block later
            assertEquals(0, watcher(s).runOnce(), "the blocks have 2 and 1 confirmations of 3");
            mine(1);
            assertEquals(1, watcher(s).runOnce(), "the stranger's transfer has 3 confirmations: recorded");
            assertEquals(before, balance(s), "recorded, not credited; the customer's transfer has 2 confirmations");
            mine(1);
            assertEquals(1, watcher(s).runOnce(), "the customer's transfer has 3 confirmations");
            assertEquals(before + 7_000_000, balance(s), "only the proved wallet's transfer is credited");
            JsonNode list = deposits(s).path("deposits");
            assertEquals(1, list.size(), list.toString());
            assertEquals("credited", list.get(0).path("status").asText());
            assertEquals(7_000_000, list.get(0).path("amount_micro_usdc").asLong());
            assertEquals(customer.getAddress().toLowerCase(), list.get(0).path("from_address").asText());
            mine(2);
            assertEquals(0, watcher(s).runOnce(), "a second scan credits nothing again");
        }
        try (EarnIdleServer s = start(dir)) {
            assertEquals(0, watcher(s).runOnce(), "nothing is credited twice after a restart");
            assertEquals(before + 7_000_000, balance(s));

            // a reorganisation shorter than the depth takes the transfer back before it is confirmed
            String snapshot = rpc("evm_snapshot", "[]").asText();
            Chain.Signed reorged = deposit(customer, 5_000_000);
            send(reorged);
            mine(1);
            assertEquals(0, watcher(s).runOnce());
            assertTrue(rpc("evm_revert", "[\"" + snapshot + "\"]").asBoolean());
            assertTrue(chain.chain().receipt(reorged.hash()).isEmpty(), "the reorganisation dropped the transfer");
            mine(CONFIRMATIONS + 1);
            assertEquals(0, watcher(s).runOnce());
            assertEquals(before + 7_000_000, balance(s), "a transfer the chain took back is never credited");

            // the same signed transaction mined again on the new chain is credited, once
            send(reorged);
            mine(CONFIRMATIONS - 1);
            assertEquals(1, watcher(s).runOnce());
            mine(CONFIRMATIONS);
            assertEquals(0, watcher(s).runOnce());
            assertEquals(before + 12_000_000, balance(s));
            assertEquals(2, deposits(s).path("deposits").size());
            var db = s.backend().database();
            assertEquals(1, TestSupport.count(db, "SELECT COUNT(*) AS n FROM deposits WHERE status = 'unmatched' "
                    + "AND from_address = ?", stranger.getAddress().toLowerCase()));
            assertEquals(2, TestSupport.count(db, "SELECT COUNT(*) AS n FROM ledger_transactions t JOIN deposits d"
                    + " ON d.id = t.reference WHERE t.kind = 'deposit'"));
            assertLedgerConsistent(db);
        } finally {
            TestSupport.deleteTree(dir);
        }
    }

    @Test
    void aReorganisationDeeperThanTheDepthStopsTheWatcher() throws Exception {
        Path dir = TestSupport.tempDir();
        Credentials customer = fundedWallet(10_000_000);
        try (EarnIdleServer s = start(dir)) {
            assertEquals(0, watcher(s).runOnce());
            prove(s, customer);
            long before = balance(s);
            String snapshot = rpc("evm_snapshot", "[]").asText();
            send(deposit(customer, 4_000_000));
            mine(CONFIRMATIONS - 1);
            assertEquals(1, watcher(s).runOnce());
            assertEquals(before + 4_000_000, balance(s));

            assertTrue(rpc("evm_revert", "[\"" + snapshot + "\"]").asBoolean());
            mine(CONFIRMATIONS + 2);
            DepositWatcher.DeepReorg e = assertThrows(DepositWatcher.DeepReorg.class, () -> watcher(s).runOnce());
            assertTrue(e.getMessage().contains("deeper than earnidle.deposits.confirmations"), e.getMessage());
            send(deposit(customer, 4_000_000));
            mine(CONFIRMATIONS);
            assertThrows(DepositWatcher.DeepReorg.class, () -> watcher(s).runOnce(), "it stays stopped");
            assertEquals(before + 4_000_000, balance(s), "nothing more is credited on the chain it no longer matches");
            assertLedgerConsistent(s.backend().database());
        } finally {
            TestSupport.deleteTree(dir);
        }
    }

    @Test
    void twoWatchersScanningOneDatabaseAtOnceCreditEachTransferOnce() throws Exception {
        Path dir = TestSupport.tempDir();
        Credentials customer = fundedWallet(10_000_000);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (EarnIdleServer s = start(dir);
             Chain rpc = new Chain(chain.rpcUrl(), LocalChain.CHAIN_ID)) {
            // a second backend's watcher on the same database (two instances of the server)
            DepositWatcher other = new DepositWatcher(DepositSettings.from(config(dir).get("earnidle")),
                    s.backend().database(), s.backend().deposits().deposits(), rpc);
            assertEquals(0, watcher(s).runOnce());
            prove(s, customer);
            long before = balance(s);
            for (int i = 1; i <= 3; i++) {
                send(deposit(customer, i * 1_000_000));
            }
            mine(CONFIRMATIONS);
            int recorded = 0;
            for (int round = 0; round < 3; round++) {
                CyclicBarrier together = new CyclicBarrier(2);
                List<Callable<Integer>> scans = List.of(() -> {
                    together.await();
                    return watcher(s).runOnce();
                }, () -> {
                    together.await();
                    return other.runOnce();
                });
                for (Future<Integer> f : pool.invokeAll(scans)) {
                    recorded += f.get();
                }
                mine(1);
            }
            assertEquals(3, recorded, "each transfer recorded by one of the two watchers");
            assertEquals(before + 6_000_000, balance(s));
            assertEquals(3, deposits(s).path("deposits").size());
            assertLedgerConsistent(s.backend().database());
        } finally {
            pool.shutdownNow();
            TestSupport.deleteTree(dir);
        }
    }
}
