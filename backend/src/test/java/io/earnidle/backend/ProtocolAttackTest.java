package io.earnidle.backend;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.receipts.Jcs;
import io.earnidle.backend.receipts.ReceiptKeys;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attack suite (issue 23, docs/security.md), the node and wallet protocol: a result for another node's job,
 * withdrawals racing for more than the balance, a slow client, and tampered receipts. Each attack fails and leaves
 * the jobs, the ledger and the receipts as they were.
 */
@ServerTest
class ProtocolAttackTest extends BackendServerTest {
    private static final long JOB_PRICE = 1_000_000;

    private final Api api;
    private final URI uri;

    ProtocolAttackTest(Http1Client client, URI uri) {
        this.api = new Api(client);
        this.uri = uri;
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                // synthetic results, paid unverified and at once (as WalletConcurrencyTest)
                "earnidle.ledger.verification-window-seconds", "0", "earnidle.trust.sample-rate", "0",
                "earnidle.rates.per-job-micro-usdc", String.valueOf(JOB_PRICE),
                "earnidle.rates.per-token-micro-usdc", "0",
                "earnidle.payouts.token-address", "0x5fbdb2315678afecb367f032d93f642f64180aa3",
                "earnidle.payouts.min-withdrawal-micro-usdc", "100"), Clock.systemUTC());
    }

    private static long jobResults(String jobId) {
        return count(backend.database(), "SELECT COUNT(*) AS n FROM job_results WHERE job_id = ?", jobId);
    }

    @Test
    void aResultForAnotherNodesJobIsRefusedAndChangesNothing() {
        String owner = api.register();
        String thief = api.register();
        String jobId = api.submit("whose job is it", 4).path("id").asText();
        JsonNode lease = api.lease(owner, jobId);
        long entries = count(backend.database(), "SELECT COUNT(*) AS n FROM ledger_entries");

        // the thief knows the job id and even the lease id (they are not secrets to rely on)
        Resp stolen = api.result(thief, Api.resultBody(lease, "e"), UUID.randomUUID().toString());
        stolen.problem(409, "conflict"); // not the current lease of this session
        Resp forged = api.result(thief, Api.resultBody(lease, "e").replace(lease.path("lease_id").asText(),
                "lease_forged"), UUID.randomUUID().toString());
        forged.problem(409, "conflict"); // not the current lease of this session
        // nor can it heartbeat or fail the owner's lease away
        Resp beat = api.post("/api/inference/progress", thief, """
                {"job_id":"%s","lease_id":"%s","tokens_done":1,"token_ids":[1],"text":" a"}"""
                .formatted(jobId, lease.path("lease_id").asText()));
        beat.problem(409, "conflict"); // not the current lease of this session
        Resp fail = api.post("/api/inference/failure", thief, """
                {"job_id":"%s","lease_id":"%s","reason":"out_of_memory"}"""
                .formatted(jobId, lease.path("lease_id").asText()));
        fail.problem(409, "conflict"); // not the current lease of this session

        assertEquals(0, jobResults(jobId));
        assertEquals(entries, count(backend.database(), "SELECT COUNT(*) AS n FROM ledger_entries"));
        assertEquals("leased", api.get("/api/jobs/" + jobId, TestSupport.CUSTOMER_KEY).json().path("status").asText());
        // the owner still delivers, once
        Resp ok = api.result(owner, Api.resultBody(lease, "e"), UUID.randomUUID().toString());
        assertEquals(200, ok.status(), ok.text());
        assertEquals(1, jobResults(jobId));
        assertLedgerConsistent(backend.database());
    }

    @Test
    void concurrentWithdrawalsOfMoreThanTheBalanceTakeOnlyWhatItHolds() throws Exception {
        Credentials key = WalletTestSupport.newKey();
        String walletToken = WalletTestSupport.signIn(api, key, backend.ledger().now());
        String account = Ledger.accountId("wallet", key.getAddress().toLowerCase());
        String node = api.post("/api/nodes", null, """
                {"placement_id":"demo-placement","capabilities":{},"limits":{},"wallet_token":"%s"}"""
                .formatted(walletToken)).json().path("session_token").asText();
        for (int i = 0; i < 3; i++) {
            api.complete(node, api.submit("earn " + i, 4).path("id").asText());
        }
        long balance = api.get("/api/wallets/me", walletToken).json().path("balance_micro_usdc").asLong();
        assertTrue(balance > 0, "the wallet earned");
        // each withdrawal asks for just over a third: only two fit, however the requests interleave
        long ask = balance / 3 + 1;
        int attempts = 12;
        String dest = WalletTestSupport.newKey().getAddress().toLowerCase();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(attempts);
        List<Future<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < attempts; i++) {
            long nonce = i + 1;
            Callable<Integer> withdraw = () -> {
                Api own = new Api(TestSupport.ownClient(uri));
                long deadline = System.currentTimeMillis() / 1000 + 600;
                String body = withdrawBody(ask, dest, nonce, deadline,
                        signWithdraw(key.getEcKeyPair(), 1337, account, dest, ask, nonce, deadline));
                go.await();
                Resp r = own.post("/api/payouts", walletToken, body);
                if (r.status() != 202) {
                    r.problem(402, "insufficient-funds");
                }
                return r.status();
            };
            futures.add(pool.submit(withdraw));
        }
        go.countDown();
        int accepted = 0;
        for (Future<Integer> f : futures) {
            accepted += f.get() == 202 ? 1 : 0;
        }
        pool.shutdown();
        assertEquals(2, accepted, "exactly the withdrawals the balance covers");
        JsonNode me = api.get("/api/wallets/me", walletToken).json();
        assertEquals(balance - 2 * ask, me.path("balance_micro_usdc").asLong());
        assertEquals(2 * ask, me.path("in_flight_micro_usdc").asLong());
        assertEquals(2, count(backend.database(), "SELECT COUNT(*) AS n FROM payouts WHERE account_id = ?",
                account));
        assertEquals(0, count(backend.database(), "SELECT COUNT(*) AS n FROM ledger_accounts"
                + " WHERE owner_type <> 'external' AND balance_micro_usdc < 0"));
        assertLedgerConsistent(backend.database());
    }

    @Test
    void slowClientsHoldNothingButTheirOwnConnection() throws Exception {
        long jobs = count(backend.database(), "SELECT COUNT(*) AS n FROM jobs");
        String body = "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"slow\",\"max_tokens\":4}";
        List<Socket> slow = new ArrayList<>();
        try {
            // many clients send a job's headers and only part of its body, then stall
            for (int i = 0; i < 64; i++) {
                Socket s = new Socket(uri.getHost(), uri.getPort());
                OutputStream out = s.getOutputStream();
                out.write(("POST /api/jobs HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nAuthorization: Bearer "
                        + TestSupport.CUSTOMER_KEY + "\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.length() + "\r\n\r\n" + body.substring(0, body.length() / 2))
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                slow.add(s);
            }
            // others trickle their request line a byte at a time and never finish the headers
            for (int i = 0; i < 16; i++) {
                Socket s = new Socket(uri.getHost(), uri.getPort());
                s.getOutputStream().write("GET /api/jobs".getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                slow.add(s);
            }
            // a normal client is still served at once, end to end
            String token = api.register();
            String jobId = api.submit("served while others stall", 4).path("id").asText();
            api.complete(token, jobId);
            assertEquals("completed", api.get("/api/jobs/" + jobId, TestSupport.CUSTOMER_KEY).json().path("status")
                    .asText());
        } finally {
            for (Socket s : slow) {
                s.close();
            }
        }
        // a body that never arrived in full created nothing
        assertEquals(jobs + 1, count(backend.database(), "SELECT COUNT(*) AS n FROM jobs"));
    }

    @Test
    void tamperedReceiptsDoNotVerify() throws Exception {
        String token = api.register();
        JsonNode accepted = api.complete(token, api.submit("receipt me", 4).path("id").asText());
        String receiptId = accepted.path("receipt_id").asText();
        assertTrue(receiptId.startsWith("rcpt_"), accepted.toString());
        JsonNode envelope = api.get("/api/receipts/" + receiptId, null).json();
        Map<String, String> keys = new HashMap<>();
        for (JsonNode k : api.get("/.well-known/earnidle-receipt-keys.json", null).json().path("keys")) {
            keys.put(k.path("kid").asText(), k.path("x").asText());
        }
        ObjectNode receipt = (ObjectNode) envelope.path("receipt");
        String x = keys.get(envelope.path("kid").asText());
        byte[] sig = Base64.getUrlDecoder().decode(envelope.path("signature").asText());
        assertTrue(ReceiptKeys.verify(x, Jcs.bytes(receipt), sig), "the untouched receipt verifies");

        // every field changed, one at a time (numbers bumped, text altered, objects emptied), fails verification
        int tampered = 0;
        for (Iterator<String> names = receipt.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            ObjectNode copy = receipt.deepCopy();
            JsonNode v = copy.path(name);
            if (v.isIntegralNumber()) {
                copy.put(name, v.asLong() + 1);
            } else if (v.isNumber()) {
                copy.put(name, v.asDouble() * 2 + 1);
            } else if (v.isTextual()) {
                copy.put(name, v.asText() + "0");
            } else if (v.isNull()) {
                copy.put(name, "0".repeat(64));
            } else {
                copy.putObject(name);
            }
            assertFalse(ReceiptKeys.verify(x, Jcs.bytes(copy), sig), "changed " + name + " still verifies");
            tampered++;
        }
        assertTrue(tampered >= 5, "the receipt has its fields: " + receipt);
        // an added field, a removed field, and another receipt's signature fail too
        ObjectNode added = receipt.deepCopy();
        added.put("bonus_micro_usdc", 1_000_000);
        assertFalse(ReceiptKeys.verify(x, Jcs.bytes(added), sig));
        ObjectNode removed = receipt.deepCopy();
        removed.remove(receipt.fieldNames().next());
        assertFalse(ReceiptKeys.verify(x, Jcs.bytes(removed), sig));
        JsonNode other = api.get("/api/receipts/" + api.complete(token, api.submit("another", 4).path("id")
                .asText()).path("receipt_id").asText(), null).json();
        assertFalse(ReceiptKeys.verify(x, Jcs.bytes(receipt),
                Base64.getUrlDecoder().decode(other.path("signature").asText())));
        // the served receipt is unchanged by all this (the server holds the signed text)
        assertEquals(envelope, api.get("/api/receipts/" + receiptId, null).json());
    }
}
