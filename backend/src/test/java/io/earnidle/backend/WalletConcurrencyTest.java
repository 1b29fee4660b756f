package io.earnidle.backend;

import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static io.earnidle.backend.TestSupport.count;
import static io.earnidle.backend.WalletTestSupport.signWithdraw;
import static io.earnidle.backend.WalletTestSupport.withdrawBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many threads credit one wallet (jobs) and withdraw from it at once: the ledger stays exact. */
@ServerTest
class WalletConcurrencyTest extends BackendServerTest {
    private static final long JOB_PRICE = 1_000_000;
    private static final long WITHDRAW = 500_000;

    private final Http1Client client;
    private final URI uri;

    WalletConcurrencyTest(Http1Client client, URI uri) {
        this.client = client;
        this.uri = uri;
    }

    /** One client per worker thread: the threads never share a client's pooled keep-alive connections. */
    private Api threadApi() {
        return new Api(TestSupport.ownClient(uri));
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                // synthetic results, paid unverified and at once, as before verification (docs/trust.md)
                "earnidle.ledger.verification-window-seconds", "0", "earnidle.trust.sample-rate", "0",
                "earnidle.rates.per-job-micro-usdc", String.valueOf(JOB_PRICE),
                "earnidle.rates.per-token-micro-usdc", "0",
                "earnidle.payouts.token-address", "0x5fbdb2315678afecb367f032d93f642f64180aa3",
                "earnidle.payouts.min-withdrawal-micro-usdc", "100",
                // four threads lease for one session at once (docs/trust.md: the lease cap)
                "earnidle.leases.max-per-session", "4"), Clock.systemUTC());
    }

    @Test
    void concurrentCreditsAndWithdrawalsKeepTheLedgerExact() throws Exception {
        Api api = new Api(client);
        Credentials key = WalletTestSupport.newKey();
        String walletToken = WalletTestSupport.signIn(api, key, backend.ledger().now());
        String account = Ledger.accountId("wallet", key.getAddress().toLowerCase());
        Resp reg = api.post("/api/nodes", null, """
                {"placement_id":"demo-placement","capabilities":{},"limits":{},"wallet_token":"%s"}"""
                .formatted(walletToken));
        String node = reg.json().path("session_token").asText();
        String dest = WalletTestSupport.newKey().getAddress().toLowerCase();
        long perJob = Ledger.split(JOB_PRICE, 1000, 2000).visitor();
        int jobs = 40;
        for (int i = 0; i < jobs; i++) {
            api.submit("concurrent " + i, 4);
        }

        AtomicInteger completed = new AtomicInteger();
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicLong nonces = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            futures.add(pool.submit(() -> {
                Api worker = threadApi();
                while (true) {
                    Resp lease = worker.get("/api/inference/job", node);
                    if (lease.status() == 204) {
                        return null;
                    }
                    assertEquals(200, lease.status(), lease.text());
                    Resp r = worker.result(node, Api.resultBody(lease.json(), "e"), UUID.randomUUID().toString());
                    assertEquals(200, r.status(), r.text());
                    completed.incrementAndGet();
                }
            }));
            futures.add(pool.submit(() -> {
                Api worker = threadApi();
                for (int i = 0; i < 15; i++) {
                    long nonce = nonces.incrementAndGet();
                    long deadline = System.currentTimeMillis() / 1000 + 600;
                    Resp r = worker.post("/api/payouts", walletToken, withdrawBody(WITHDRAW, dest, nonce, deadline,
                            signWithdraw(key.getEcKeyPair(), 1337, account, dest, WITHDRAW, nonce, deadline)));
                    if (r.status() == 202) {
                        accepted.incrementAndGet();
                    } else {
                        r.problem(402, "insufficient-funds");
                        refused.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        pool.shutdown();

        assertEquals(jobs, completed.get());
        assertEquals(60, accepted.get() + refused.get());
        assertTrue(accepted.get() > 0, "some withdrawals went through");
        JsonNode me = api.get("/api/wallets/me", walletToken).json();
        long credited = jobs * perJob;
        assertEquals(credited - accepted.get() * WITHDRAW, me.path("balance_micro_usdc").asLong());
        assertEquals(accepted.get() * WITHDRAW, me.path("in_flight_micro_usdc").asLong());
        assertEquals(accepted.get() * WITHDRAW, TestSupport.balance(backend.database(),
                Ledger.PAYOUTS_IN_FLIGHT_ACCOUNT));
        assertEquals(accepted.get(), count(backend.database(), "SELECT COUNT(*) AS n FROM payouts"));
        assertEquals(0, count(backend.database(), "SELECT COUNT(*) AS n FROM ledger_accounts"
                + " WHERE owner_type <> 'external' AND balance_micro_usdc < 0"));
        assertLedgerConsistent(backend.database());
    }
}
