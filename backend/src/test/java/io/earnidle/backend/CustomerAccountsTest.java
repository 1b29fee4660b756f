package io.earnidle.backend;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.publishers.PortalClient;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Customer accounts and API keys (docs/api.md "Accounts and API keys"): a portal account becomes a customer with its
 * first key; the secret is shown once and only its SHA-256 is stored; keys are listed by name and prefix and can be
 * revoked; {@code /api/jobs} and {@code /v1} authenticate through {@code api_keys}, and a job records its key.
 */
@ServerTest
class CustomerAccountsTest extends BackendServerTest {
    private static final String PASSWORD = "correct horse battery";

    private final Api api;
    private final String base;

    CustomerAccountsTest(Http1Client client, URI uri) {
        this.api = new Api(client);
        this.base = uri.toString().replaceAll("/$", "");
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        // synthetic results, paid unverified and at once (docs/trust.md)
        start(routing, Map.of("earnidle.ledger.verification-window-seconds", "0", "earnidle.trust.sample-rate", "0"),
                new TestSupport.MutableClock());
    }

    private PortalClient newAccount() {
        return new PortalClient(base).signUp("cust" + System.nanoTime() + "@example.org", PASSWORD);
    }

    /** A test-side deposit standing in for the on-chain deposit: external deposits -> the customer's account. */
    private static void fund(String customerId, long microUsdc) {
        backend.database().inTransaction(tx -> backend.ledger().post(tx, "deposit", null, List.of(
                new Ledger.Entry(Ledger.DEPOSITS_ACCOUNT, -microUsdc),
                new Ledger.Entry(Ledger.accountId("customer", customerId), microUsdc)), false));
    }

    private static String jobBody(int maxTokens) {
        return """
                {"model":"synthetic-tiny-f32","prompt":"Hello","max_tokens":%d,"sampling":{"temperature":0,"seed":1}}"""
                .formatted(maxTokens);
    }

    @Test
    void keysAreCreatedShownOnceListedUsedAndRevoked() {
        PortalClient c = newAccount();
        JsonNode me = c.get("/api/customer/me").ok(200).json();
        assertTrue(me.path("customer_id").isNull(), "no customer before the first key: " + me);
        assertEquals(0, c.get("/api/customer/keys").ok(200).json().path("data").size());

        JsonNode created = c.post("/api/customer/keys", "{\"name\":\"production server\"}").ok(201).json();
        String secret = created.path("secret").asText();
        assertTrue(secret.matches("ei_sk_[0-9a-f]{64}"), secret);
        assertEquals(secret.substring(0, 12), created.path("prefix").asText());
        String customer = c.get("/api/customer/me").ok(200).json().path("customer_id").asText();
        assertTrue(customer.startsWith("cus_"), customer);

        // stored hashed: the secret is nowhere in the database, its SHA-256 is
        assertEquals(0, count(backend.database(), "SELECT COUNT(*) AS n FROM api_keys WHERE key_sha256 = ?"
                + " OR prefix = ? OR name = ?", secret, secret, secret));
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM api_keys WHERE key_sha256 = ?",
                Ids.sha256Hex(secret)));
        // listed by name and prefix, never with the secret
        JsonNode listed = c.get("/api/customer/keys").ok(200).json().path("data");
        assertEquals(1, listed.size());
        assertEquals("production server", listed.get(0).path("name").asText());
        assertEquals(created.path("prefix").asText(), listed.get(0).path("prefix").asText());
        assertFalse(listed.toString().contains(secret.substring(12)), listed.toString());

        // an unfunded customer is refused for funds, not for its key
        api.post("/api/jobs", secret, jobBody(4)).problem(402, "insufficient-funds");
        fund(customer, 1_000_000);
        assertEquals(1_000_000, c.get("/api/customer/me").json().path("balance_micro_usdc").asLong());
        TestSupport.Resp submitted = api.post("/api/jobs", secret, jobBody(4));
        assertEquals(202, submitted.status(), submitted.text());
        String jobId = submitted.json().path("id").asText();
        assertEquals(created.path("id").asText(), Database.str(backend.database().execute()
                .get("SELECT api_key_id FROM jobs WHERE id = ?", jobId).orElseThrow(), "api_key_id"));
        assertEquals(200, api.get("/api/jobs/" + jobId, secret).status());
        api.complete(api.register(), jobId);
        // charged per token produced (docs/api.md "Pricing": the default fee 200, output 60, input 0 per token)
        JsonNode done = api.get("/api/jobs/" + jobId, secret).json();
        long charged = done.path("charged_micro_usdc").asLong();
        assertEquals(200 + 60 * done.path("usage").path("completion_tokens").asLong(), charged, done.toString());
        assertEquals(1_000_000 - charged, c.get("/api/customer/me").json().path("balance_micro_usdc").asLong());
        assertEquals(200, api.get("/v1/models", secret).status());

        // usage: spend, tokens and latency, in total, by model, by key and by day
        JsonNode usage = c.get("/api/customer/usage").ok(200).json();
        JsonNode totals = usage.path("totals");
        assertEquals(1, totals.path("jobs").asInt(), usage.toString());
        assertEquals(charged, totals.path("spend_micro_usdc").asLong());
        assertEquals(3, totals.path("completion_tokens").asLong());
        assertTrue(totals.path("p50_latency_ms").asLong() >= 0, usage.toString());
        assertEquals(totals.path("p50_latency_ms").asLong(), totals.path("p99_latency_ms").asLong(), "one job");
        assertEquals("synthetic-tiny-f32", usage.at("/by_model/0/model").asText());
        assertEquals(created.path("id").asText(), usage.at("/by_key/0/key_id").asText());
        assertEquals("production server", usage.at("/by_key/0/name").asText());
        JsonNode days = usage.path("by_day");
        assertEquals(30, days.size());
        assertEquals(charged, days.get(29).path("spend_micro_usdc").asLong(), days.get(29).toString());
        assertEquals(0, newAccount().get("/api/customer/usage").ok(200).json().at("/totals/jobs").asInt());

        // revoked: listed with its time, and authenticates nothing any more
        JsonNode revoked = c.post("/api/customer/keys/" + created.path("id").asText() + "/revoke", null).ok(200)
                .json();
        assertFalse(revoked.path("revoked_at").isNull(), revoked.toString());
        api.post("/api/jobs", secret, jobBody(4)).problem(401, "unauthorized");
        api.get("/api/jobs/" + jobId, secret).problem(401, "unauthorized");
        assertEquals(401, api.get("/v1/models", secret).status());
        c.post("/api/customer/keys/" + created.path("id").asText() + "/revoke", null).problem(409, "conflict");
        assertEquals(1, c.get("/api/customer/keys").json().path("data").size());
        TestSupport.assertLedgerConsistent(backend.database());
    }

    @Test
    void keysBelongToTheirAccountAndChangesNeedTheSessionAndCsrfToken() {
        PortalClient owner = newAccount();
        JsonNode key = owner.post("/api/customer/keys", "{\"name\":\"ci\"}").ok(201).json();
        String keyId = key.path("id").asText();

        PortalClient other = newAccount();
        other.post("/api/customer/keys/" + keyId + "/revoke", null).problem(404, "not-found");
        assertEquals(0, other.get("/api/customer/keys").json().path("data").size());

        new PortalClient(base).get("/api/customer/keys").problem(401, "unauthorized");
        new PortalClient(base).post("/api/customer/keys", "{\"name\":\"x\"}").problem(401, "unauthorized");
        String csrf = owner.csrf;
        owner.csrf = null;
        owner.post("/api/customer/keys", "{\"name\":\"x\"}").problem(403, "csrf");
        owner.post("/api/customer/keys/" + keyId + "/revoke", null).problem(403, "csrf");
        owner.csrf = csrf;
        owner.post("/api/customer/keys", "{\"name\":\"  \"}").problem(400, "validation");
        assertEquals(200, api.get("/v1/models", key.path("secret").asText()).status(), "still active");

        // a second key of the same customer: both work, each job records its own
        String second = owner.post("/api/customer/keys", "{\"name\":\"laptop\"}").ok(201).json().path("secret")
                .asText();
        assertEquals(200, api.get("/v1/models", second).status());
        assertEquals(2, owner.get("/api/customer/keys").json().path("data").size());
    }

    @Test
    void theDemoKeyIsAnApiKeyOfTheDemoCustomer() {
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM api_keys WHERE customer_id ="
                + " 'demo-customer' AND key_sha256 = ? AND revoked_at IS NULL", Ids.sha256Hex(CUSTOMER_KEY)));
        TestSupport.Resp r = api.post("/api/jobs", CUSTOMER_KEY, jobBody(4));
        assertEquals(202, r.status(), r.text());
        assertEquals("key_demo-customer", Database.str(backend.database().execute()
                .get("SELECT api_key_id FROM jobs WHERE id = ?", r.json().path("id").asText()).orElseThrow(),
                "api_key_id"));
        api.complete(api.register(), r.json().path("id").asText());
    }

    /**
     * Job submissions that together cost more than the balance, all at once: each job is written before its
     * customer's account row is locked for the balance check (docs/trust.md "Money follows verification"), so the
     * check must still see every job committed before it. Exactly as many are accepted as the balance covers; the
     * rest are 402 and leave no job behind.
     */
    @Test
    void concurrentJobsOfMoreThanTheBalanceReserveOnlyWhatItHolds() throws Exception {
        PortalClient pricing = newAccount();
        String pricingKey = pricing.post("/api/customer/keys", "{\"name\":\"price\"}").ok(201).json()
                .path("secret").asText();
        fund(pricing.get("/api/customer/me").ok(200).json().path("customer_id").asText(), 1_000_000);
        TestSupport.Resp priced = api.post("/api/jobs", pricingKey, jobBody(4));
        assertEquals(202, priced.status(), priced.text());
        long price = priced.json().path("price_micro_usdc").asLong(); // what this body reserves, for anyone

        PortalClient c = newAccount();
        String secret = c.post("/api/customer/keys", "{\"name\":\"burst\"}").ok(201).json().path("secret").asText();
        String customer = c.get("/api/customer/me").ok(200).json().path("customer_id").asText();
        int affordable = 5;
        fund(customer, affordable * price + price / 2);
        int tries = 4 * affordable;
        ExecutorService pool = Executors.newFixedThreadPool(tries);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<TestSupport.Resp>> all = new ArrayList<>();
            for (int i = 0; i < tries; i++) {
                Api own = new Api(TestSupport.ownClient(base)); // one client per thread (TestSupport.ownClient)
                all.add(pool.submit(() -> {
                    go.await();
                    return own.post("/api/jobs", secret, jobBody(4));
                }));
            }
            go.countDown();
            int accepted = 0;
            List<String> queued = new ArrayList<>();
            for (Future<TestSupport.Resp> f : all) {
                TestSupport.Resp r = f.get();
                if (r.status() == 202) {
                    accepted++;
                    queued.add(r.json().path("id").asText());
                    assertEquals(price, r.json().path("price_micro_usdc").asLong());
                } else {
                    r.problem(402, "insufficient-funds");
                }
            }
            assertEquals(affordable, accepted, "every job the balance covers, no more");
            assertEquals(affordable, count(backend.database(), "SELECT COUNT(*) AS n FROM jobs WHERE customer_id = ?",
                    customer), "a refused job leaves no row");
            api.post("/api/jobs", secret, jobBody(4)).problem(402, "insufficient-funds");
            for (String id : queued) { // the other tests lease the oldest queued job: none of these stays
                assertEquals(200, api.post("/api/jobs/" + id + "/cancel", secret, "{}").status());
            }
            assertEquals(200, api.post("/api/jobs/" + priced.json().path("id").asText() + "/cancel", pricingKey,
                    "{}").status());
        } finally {
            pool.shutdownNow();
        }
    }
}
