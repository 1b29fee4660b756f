package io.earnidle.backend;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static io.earnidle.backend.TestSupport.count;
import static io.earnidle.backend.TestSupport.moneyFromJob;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cascade (issue 21, docs/api.md "Cascade"): a job no node starts within its class's deadline goes to the next
 * tier, a higher class of nodes or an upstream OpenAI-compatible API. The upstream is a fake the test starts on
 * 127.0.0.1 and reaches over real HTTP; the clock is virtual and the test runs the cascade's rounds itself. A job is
 * served and billed once, also when a node polls it at the moment it cascades, and the ledger stays zero-sum.
 */
@ServerTest
class CascadeTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final String CUSTOMER = Ledger.accountId("customer", "demo-customer");
    private static final long FEE = 150;
    private static final long INPUT = 20;
    private static final long OUTPUT = 70;
    private static final long PROBATION_DEADLINE_S = 30;
    private static final String UPSTREAM_KEY = "upstream-secret-key";
    private static final String UPSTREAM_TEXT = " from the upstream";
    private static final int UPSTREAM_COMPLETION_TOKENS = 3;
    private static final String COMMITTED = "SELECT COALESCE(SUM(price_micro_usdc), 0) AS n FROM jobs"
            + " WHERE customer_id = ? AND status IN ('queued', 'leased', 'cascading')";
    private static FakeUpstream upstream;
    private final Api api;

    CascadeTest(Http1Client client) {
        this.api = new Api(client);
    }

    /** An OpenAI-compatible {@code POST /v1/completions} that answers what the test sets, once each gate opens. */
    static final class FakeUpstream {
        final HttpServer server;
        final AtomicReference<JsonNode> lastBody = new AtomicReference<>();
        final AtomicReference<String> lastAuthorization = new AtomicReference<>();
        final AtomicInteger calls = new AtomicInteger();
        volatile int status = 200;
        volatile CountDownLatch arrived = new CountDownLatch(0);
        volatile CountDownLatch gate = new CountDownLatch(0);

        FakeUpstream() throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/v1/completions", this::answer);
            // a call of its own per request (daemon threads): a call no test opens the gate for any more (a job an
            // earlier test left queued, cascaded by a later round) must not hold the dispatcher, which stop() waits for
            server.setExecutor(Executors.newCachedThreadPool(Thread.ofPlatform().daemon().factory()));
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
        }

        private void answer(HttpExchange ex) throws IOException {
            try (InputStream in = ex.getRequestBody()) {
                lastBody.set(TestSupport.MAPPER.readTree(in));
            }
            lastAuthorization.set(ex.getRequestHeaders().getFirst("Authorization"));
            calls.incrementAndGet();
            arrived.countDown();
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = (status == 200 ? """
                    {"id":"cmpl-up","object":"text_completion","created":1,"model":"m",
                     "choices":[{"index":0,"text":%s,"finish_reason":"length"}],
                     "usage":{"prompt_tokens":5,"completion_tokens":%d,"total_tokens":%d}}"""
                    .formatted(TestSupport.quote(UPSTREAM_TEXT), UPSTREAM_COMPLETION_TOKENS,
                            5 + UPSTREAM_COMPLETION_TOKENS)
                    : "{\"error\":{\"message\":\"overloaded\"}}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        }
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) throws IOException {
        upstream = new FakeUpstream();
        start(routing, Map.ofEntries(
                Map.entry("earnidle.rates.per-job-micro-usdc", String.valueOf(FEE)),
                Map.entry("earnidle.rates.input-per-token-micro-usdc", String.valueOf(INPUT)),
                Map.entry("earnidle.rates.per-token-micro-usdc", String.valueOf(OUTPUT)),
                Map.entry("earnidle.ledger.verification-window-seconds", "0"),
                Map.entry("earnidle.trust.verifier-threads", "0"),
                // no canaries: the tests lease and race customer jobs, and a canary queued after a lease (5 % of
                // them by default, at random) is the next node's job, older than the one the next round submits
                Map.entry("earnidle.trust.canary.rate", "0"),
                Map.entry("earnidle.leases.watchdog-interval-ms", "0"),
                Map.entry("earnidle.leases.registration.max-per-window", "1000"),
                Map.entry("earnidle.cascade.interval-ms", "0"),
                Map.entry("earnidle.cascade.classes.probation.deadline-seconds", String.valueOf(PROBATION_DEADLINE_S)),
                Map.entry("earnidle.cascade.classes.probation.next", "upstream"),
                Map.entry("earnidle.cascade.classes.verified.deadline-seconds", "60"),
                Map.entry("earnidle.cascade.classes.verified.next", "trusted"),
                Map.entry("earnidle.cascade.upstream.url", upstream.url()),
                Map.entry("earnidle.cascade.upstream.api-key", UPSTREAM_KEY),
                Map.entry("earnidle.cascade.upstream.timeout-seconds", "60"),
                Map.entry("earnidle.cascade.upstream.models.synthetic-tiny-f32", "upstream-tiny")), CLOCK);
    }

    @AfterAll
    static void stopUpstream() {
        upstream.server.stop(0);
    }

    @BeforeEach
    void answerAtOnce() {
        upstream.status = 200;
        upstream.arrived = new CountDownLatch(0);
        upstream.gate = new CountDownLatch(0);
    }

    private long committed() {
        return count(backend.database(), COMMITTED, "demo-customer");
    }

    private JsonNode job(String jobId) {
        return api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json();
    }

    private long charges(String jobId) {
        return count(backend.database(), "SELECT COUNT(*) AS n FROM ledger_transactions WHERE job_id = ?"
                + " AND kind = 'job_payout'", jobId);
    }

    private void pastDeadline() {
        CLOCK.advance(Duration.ofSeconds(PROBATION_DEADLINE_S + 1));
    }

    @Test
    void aJobNoNodeStartsInTimeIsServedByTheUpstreamAndBilledForItsCompletionTokens() {
        long customerBefore = available(CUSTOMER);
        long platformBefore = available(Ledger.PLATFORM_ACCOUNT);
        long committedBefore = committed();
        String prompt = "the quick brown fox";
        String jobId = api.submit(prompt, 8).path("id").asText();
        assertEquals("probation", job(jobId).path("tier").asText());

        CLOCK.advance(Duration.ofSeconds(PROBATION_DEADLINE_S - 1));
        assertEquals(0, backend.cascade().runDue(), "not before the class's deadline");
        assertEquals("queued", job(jobId).path("status").asText());
        CLOCK.advance(Duration.ofSeconds(2));
        assertEquals(1, backend.cascade().runDue());

        JsonNode request = upstream.lastBody.get();
        assertEquals("Bearer " + UPSTREAM_KEY, upstream.lastAuthorization.get());
        assertEquals("upstream-tiny", request.path("model").asText(), "the upstream's name of the model");
        assertEquals(prompt, request.path("prompt").asText());
        assertEquals(8, request.path("max_tokens").asInt());
        assertEquals(42, request.path("seed").asLong());
        JsonNode done = job(jobId);
        assertEquals("completed", done.path("status").asText(), done.toString());
        assertEquals("upstream", done.path("tier").asText());
        assertEquals(UPSTREAM_TEXT, done.path("result").path("text").asText());
        assertEquals("upstream", done.path("result").path("engine").asText());
        assertEquals(UPSTREAM_COMPLETION_TOKENS, done.path("usage").path("completion_tokens").asInt());
        long promptTokens = done.path("usage").path("prompt_tokens").asLong();
        assertTrue(promptTokens >= 1 && promptTokens <= prompt.length() + 1, "the job's own count: " + promptTokens);
        long charge = FEE + INPUT * promptTokens + OUTPUT * UPSTREAM_COMPLETION_TOKENS;
        assertEquals(charge, done.path("charged_micro_usdc").asLong(), "the same rate card");
        assertEquals(customerBefore - charge, available(CUSTOMER), "charged once, the rest released");
        assertEquals(platformBefore + charge, available(Ledger.PLATFORM_ACCOUNT), "no node, no publisher: all of it");
        assertEquals(committedBefore, committed());
        assertEquals(1, charges(jobId));
        assertEquals(0, backend.cascade().runDue(), "a served job never cascades again");
        assertEquals(1, charges(jobId));
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aNodeThatPollsWhileTheJobIsWithTheUpstreamGetsNothingAndTheJobIsBilledOnce() throws Exception {
        long customerBefore = available(CUSTOMER);
        String jobId = api.submit("racing", 4).path("id").asText();
        String token = api.register();
        pastDeadline();
        upstream.arrived = new CountDownLatch(1);
        upstream.gate = new CountDownLatch(1);
        CompletableFuture<Integer> round = CompletableFuture.supplyAsync(() -> backend.cascade().runDue());
        upstream.arrived.await(); // claimed: the upstream has the request and holds its answer
        assertEquals("cascading", job(jobId).path("status").asText());
        Resp poll = api.get("/api/inference/job", token);
        assertEquals(204, poll.status(), "the claimed job is no node's: " + poll.text());
        assertEquals(job(jobId).path("reserved_micro_usdc").asLong(), committedOf(jobId),
                "still reserved while the upstream works");
        upstream.gate.countDown();
        assertEquals(1, round.get());
        JsonNode done = job(jobId);
        assertEquals("completed", done.path("status").asText(), done.toString());
        assertEquals(customerBefore - done.path("charged_micro_usdc").asLong(), available(CUSTOMER));
        assertEquals(1, charges(jobId));
        assertEquals(204, api.get("/api/inference/job", token).status());
        assertLedgerConsistent(backend.database());
    }

    private long committedOf(String jobId) {
        return count(backend.database(), "SELECT price_micro_usdc AS n FROM jobs WHERE id = ? AND status IN"
                + " ('queued', 'leased', 'cascading')", jobId);
    }

    @Test
    void aJobANodeLeasedFirstNeverCascades() {
        long customerBefore = available(CUSTOMER);
        String jobId = api.submit("leased first", 4).path("id").asText();
        String token = api.register();
        JsonNode lease = api.lease(token, jobId);
        pastDeadline();
        int callsBefore = upstream.calls.get();
        assertEquals(0, backend.cascade().runDue());
        assertEquals(callsBefore, upstream.calls.get(), "the upstream never saw it");
        Resp r = api.result(token, Api.resultBody(lease, "test-engine"), UUID.randomUUID().toString());
        assertEquals(200, r.status(), r.text());
        JsonNode served = job(jobId);
        assertEquals("probation", served.path("tier").asText());
        assertEquals(1, charges(jobId));
        assertEquals(-served.path("charged_micro_usdc").asLong(), moneyFromJob(backend.database(), CUSTOMER, jobId));
        assertTrue(available(CUSTOMER) < customerBefore);
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aNodePollAndTheCascadeAtTheSameMomentServeAndBillTheJobOnce() throws Exception {
        for (int i = 0; i < 6; i++) {
            long customerBefore = available(CUSTOMER);
            String jobId = api.submit("race " + i, 4).path("id").asText();
            String token = api.register();
            pastDeadline();
            CyclicBarrier together = new CyclicBarrier(2);
            CompletableFuture<Resp> poll = CompletableFuture.supplyAsync(() -> {
                await(together);
                return api.get("/api/inference/job", token);
            });
            await(together);
            int moved = backend.cascade().runDue();
            Resp leased = poll.get();
            if (leased.status() == 200) {
                assertEquals(jobId, leased.json().path("job_id").asText());
                assertEquals(0, moved, "the node won: the job did not cascade");
                Resp r = api.result(token, Api.resultBody(leased.json(), "test-engine"), UUID.randomUUID().toString());
                assertEquals(200, r.status(), r.text());
            } else {
                assertEquals(204, leased.status(), leased.text());
                assertEquals(1, moved, "the cascade won: the node got nothing");
                assertEquals("upstream", job(jobId).path("tier").asText());
            }
            JsonNode done = job(jobId);
            assertTrue(done.path("status").asText().matches("completed|verifying"), done.toString());
            assertEquals(1, charges(jobId), "one charge, whoever won");
            assertEquals(customerBefore - done.path("charged_micro_usdc").asLong(), available(CUSTOMER));
        }
        assertLedgerConsistent(backend.database());
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aJobTheUpstreamFailsCostsNothing() {
        long customerBefore = available(CUSTOMER);
        long committedBefore = committed();
        upstream.status = 503;
        String jobId = api.submit("no luck", 4).path("id").asText();
        pastDeadline();
        assertEquals(1, backend.cascade().runDue());
        JsonNode failed = job(jobId);
        assertEquals("failed", failed.path("status").asText(), failed.toString());
        assertTrue(failed.path("charged_micro_usdc").isNull());
        assertEquals(customerBefore, available(CUSTOMER));
        assertEquals(committedBefore, committed(), "released in full");
        assertEquals(0, charges(jobId));
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aCallThatOutlivesItsTimeoutFailsTheJobAndItsLateAnswerIsDropped() throws Exception {
        long customerBefore = available(CUSTOMER);
        long committedBefore = committed();
        String jobId = api.submit("too late", 4).path("id").asText();
        pastDeadline();
        upstream.arrived = new CountDownLatch(1);
        upstream.gate = new CountDownLatch(1);
        CompletableFuture<Integer> round = CompletableFuture.supplyAsync(() -> backend.cascade().runDue());
        upstream.arrived.await();
        CLOCK.advance(Duration.ofSeconds(60 + 60 + 1)); // the upstream's timeout and the grace after it
        assertEquals(0, backend.cascade().runDue(), "a stale job fails; nothing moves");
        JsonNode failed = job(jobId);
        assertEquals("failed", failed.path("status").asText(), failed.toString());
        assertEquals(409, api.post("/api/jobs/" + jobId + "/cancel", CUSTOMER_KEY, "{}").status());
        upstream.gate.countDown(); // the answer comes after all
        assertEquals(1, round.get());
        assertEquals("failed", job(jobId).path("status").asText(), "the late answer is dropped");
        assertEquals(0, charges(jobId));
        assertEquals(customerBefore, available(CUSTOMER));
        assertEquals(committedBefore, committed(), "released in full");
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aJobOfAClassWhoseNextTierIsNodesMovesToThatClass() {
        Resp r = api.post("/api/jobs", CUSTOMER_KEY, """
                {"model":"synthetic-tiny-f32","prompt":"tiers","max_tokens":4,"min_tier":"verified"}""");
        assertEquals(202, r.status(), r.text());
        String jobId = r.json().path("id").asText();
        CLOCK.advance(Duration.ofSeconds(61));
        assertEquals(1, backend.cascade().runDue());
        JsonNode moved = job(jobId);
        assertEquals("queued", moved.path("status").asText());
        assertEquals("trusted", moved.path("tier").asText(), "the trusted class's nodes may lease it now");
        assertEquals(204, api.get("/api/inference/job", api.register()).status(), "a probation node may not");
        CLOCK.advance(Duration.ofSeconds(3600));
        assertEquals(0, backend.cascade().runDue(), "the trusted class has no next tier");
        assertEquals(0, charges(jobId));
        Resp cancelled = api.post("/api/jobs/" + jobId + "/cancel", CUSTOMER_KEY, "{}");
        assertEquals(200, cancelled.status(), cancelled.text());
    }

    @Test
    void theOpenAiApiSaysWhichTierServedTheJob() throws Exception {
        long queuedBefore = queued();
        CompletableFuture<Resp> answer = CompletableFuture.supplyAsync(() -> api.post("/v1/completions",
                CUSTOMER_KEY, """
                        {"model":"synthetic-tiny-f32","prompt":"hello","max_tokens":6}"""));
        while (queued() == queuedBefore) {
            assertFalse(answer.isDone(), () -> "answered before its job was queued: " + answer.join().text());
            Thread.sleep(10);
        }
        pastDeadline();
        assertEquals(1, backend.cascade().runDue());
        Resp r = answer.get();
        assertEquals(200, r.status(), r.text());
        JsonNode body = r.json();
        assertEquals("upstream", body.path("earnidle_tier").asText(), r.text());
        assertEquals(UPSTREAM_TEXT, body.path("choices").path(0).path("text").asText());
        assertEquals("length", body.path("choices").path(0).path("finish_reason").asText());
        assertEquals(UPSTREAM_COMPLETION_TOKENS, body.path("usage").path("completion_tokens").asInt());
        assertTrue(upstream.lastBody.get().path("prompt").isArray(), "the /v1 prompt goes as its token ids");
        assertLedgerConsistent(backend.database());
    }

    private long queued() {
        return count(backend.database(), "SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued'");
    }
}
