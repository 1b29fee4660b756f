package io.earnidle.backend;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.payouts.LocalChain;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import org.web3j.crypto.Credentials;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.WalletTestSupport.signWithdraw;
import static io.earnidle.backend.WalletTestSupport.withdrawBody;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A real local EVM chain (ganache + the TestUsdc ERC-20, 6 decimals) with the treasury funded, and backends that
 * pay out on it (in process, the sender not started: tests run its rounds by hand; or the settings of a backend
 * process that pays out on it, crash.CrashRecoveryIT). Shared by the payout tests.
 */
public final class PayoutChainFixture implements AutoCloseable {
    static final long JOB_PRICE = 5_000_000;
    public final LocalChain chain;
    public final Credentials treasury;
    public final String token;
    private final Path keyDir;
    private final Path keyFile;

    private PayoutChainFixture(LocalChain chain, Credentials treasury, String token, Path keyDir) throws Exception {
        this.chain = chain;
        this.treasury = treasury;
        this.token = token;
        this.keyDir = keyDir;
        this.keyFile = keyDir.resolve("treasury.key");
        Files.writeString(keyFile, LocalChain.DEV_KEY_0 + "\n");
    }

    public static PayoutChainFixture start() throws Exception {
        LocalChain chain = LocalChain.start();
        Credentials treasury = Credentials.create(LocalChain.DEV_KEY_0);
        String token = chain.deployTestUsdc(treasury, BigInteger.valueOf(1_000_000_000_000L));
        return new PayoutChainFixture(chain, treasury, token, TestSupport.tempDir());
    }

    /**
     * The settings of a backend on {@code dataDir} that pays out on this chain with two confirmations (its sender
     * started), the customer's jobs leased at once and their synthetic results paid unverified and at once.
     */
    public Map<String, String> settings(Path dataDir) {
        Map<String, String> m = new HashMap<>();
        m.put("earnidle.data-dir", dataDir.toString());
        m.put("earnidle.payouts.rpc-url", chain.rpcUrl());
        m.put("earnidle.payouts.token-address", token);
        m.put("earnidle.payouts.treasury-key-file", keyFile.toString());
        m.put("earnidle.payouts.confirmations", "2");
        // synthetic results, paid unverified and at once, as before verification (docs/trust.md)
        m.put("earnidle.ledger.verification-window-seconds", "0");
        m.put("earnidle.trust.sample-rate", "0");
        // the node leases the customer's jobs at once, without a capability benchmark first (docs/trust.md)
        m.put("earnidle.capability.benchmark.enabled", "false");
        m.put("earnidle.capability.dispatch.preference-wait-ms", "0");
        return m;
    }

    /**
     * A backend in this process on {@code dataDir} ({@link #settings}, jobs at {@link #JOB_PRICE}, the sender not
     * started); {@code extra} overrides.
     */
    EarnIdleServer server(Path dataDir, Map<String, String> extra) {
        Map<String, String> m = settings(dataDir);
        m.put("server.host", "127.0.0.1");
        m.put("server.port", "0");
        m.put("earnidle.rates.per-job-micro-usdc", String.valueOf(JOB_PRICE));
        m.put("earnidle.rates.per-token-micro-usdc", "0");
        m.put("earnidle.payouts.min-withdrawal-micro-usdc", "100");
        m.put("earnidle.payouts.auto-start", "false");
        m.putAll(extra);
        return EarnIdleServer.start(Config.builder().disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource().sources(ConfigSources.create(m)).build());
    }

    static Api api(EarnIdleServer s) {
        return new Api(TestSupport.ownClient("http://127.0.0.1:" + s.port()));
    }

    /** Signs the visitor in, links a node to its wallet and completes {@code jobs} jobs; returns the wallet token. */
    static String earningWallet(Api api, EarnIdleServer s, Credentials visitor, int jobs) {
        String walletToken = WalletTestSupport.signIn(api, visitor, s.backend().ledger().now());
        Resp reg = api.post("/api/nodes", null, """
                {"placement_id":"demo-placement","capabilities":{},"limits":{},"wallet_token":"%s"}"""
                .formatted(walletToken));
        assertEquals(201, reg.status(), reg.text());
        String node = reg.json().path("session_token").asText();
        for (int i = 0; i < jobs; i++) {
            api.complete(node, api.submit("job " + i, 4).path("id").asText());
        }
        return walletToken;
    }

    long onChain(String owner) throws Exception {
        return chain.chain().tokenBalance(token, owner).longValueExact();
    }

    long treasuryTxCount() throws Exception {
        return chain.chain().transactionCount(treasury.getAddress(), false).longValueExact();
    }

    static JsonNode withdraw(Api api, String walletToken, Credentials key, String dest, long amount, long nonce) {
        long deadline = System.currentTimeMillis() / 1000 + 600;
        String account = Ledger.accountId("wallet", key.getAddress().toLowerCase());
        Resp r = api.post("/api/payouts", walletToken, withdrawBody(amount, dest, nonce, deadline,
                signWithdraw(key.getEcKeyPair(), LocalChain.CHAIN_ID, account, dest, amount, nonce, deadline)));
        assertEquals(202, r.status(), r.text());
        return r.json();
    }

    static JsonNode payout(Api api, String walletToken, String id) {
        Resp r = api.get("/api/payouts/" + id, walletToken);
        assertEquals(200, r.status(), r.text());
        return r.json();
    }

    static long walletBalance(Api api, String walletToken) {
        return api.get("/api/wallets/me", walletToken).json().path("balance_micro_usdc").asLong();
    }

    @Override
    public void close() throws Exception {
        chain.close();
        TestSupport.deleteTree(keyDir);
    }
}
