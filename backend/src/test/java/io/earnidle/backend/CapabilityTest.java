package io.earnidle.backend;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.CapabilityNodes.Node;
import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static io.earnidle.backend.TestSupport.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Measured capability and timing plausibility (docs/trust.md): a new session's first job is an unpaid benchmark the
 * backend chose, its measured speed becomes the session's capability, a failed benchmark bars the session, an
 * implausibly fast result fails like a forged one, and one too fast only for its engine's capability is held for a new
 * benchmark that settles it (RebenchmarkTest: verified work far faster asks for another). sample-rate is 0: benchmark,
 * implausible and held results are verified anyway.
 */
@ServerTest
class CapabilityTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final String CUSTOMER = Ledger.accountId("customer", "demo-customer");
    private static final long REBENCHMARK_WAIT_SECONDS = 600;
    private final Api api;
    private final CapabilityNodes nodes;

    CapabilityTest(Http1Client client) {
        this.api = new Api(client);
        this.nodes = new CapabilityNodes(api);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.capability.benchmark.enabled", "true",
                "earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.sample-rate", "0",
                "earnidle.trust.verifier-threads", "0",
                "earnidle.trust.max-attempts", "3",
                "earnidle.capability.plausibility.rebenchmark-wait-seconds", String.valueOf(REBENCHMARK_WAIT_SECONDS),
                // a session may poll while it holds its benchmark's lease: what keeps customer jobs from it is
                // that it is not measured yet, not the lease cap
                "earnidle.leases.max-per-session", "2"), CLOCK);
    }

    @BeforeEach
    void sessionsOfEarlierTestsGoStale() {
        CLOCK.advance(Duration.ofMinutes(5));
    }

    private boolean isBenchmarkOf(JsonNode lease, Node n) {
        return count(backend.database(), "SELECT COUNT(*) AS n FROM jobs WHERE id = ? AND benchmark_for = ?",
                lease.path("job_id").asText(), n.id()) == 1;
    }

    /** Leases the node's benchmark, runs it honestly and reports the given timing; verifies it. */
    private JsonNode benchmark(Node n, double prefillMs, double decodeMs) {
        JsonNode lease = nodes.poll(n);
        assertTrue(isBenchmarkOf(lease, n), "the first job is the session's benchmark: " + lease);
        GenerationResult gen = nodes.run(lease);
        CLOCK.advance(Duration.ofMillis((long) (prefillMs + decodeMs) + 1));
        Resp r = nodes.submit(n, lease, gen, prefillMs, decodeMs);
        assertEquals(200, r.status(), r.text());
        assertEquals("pending", r.json().path("verification").asText(), "benchmarks are always verified");
        assertEquals(0, r.json().path("payout_micro_usdc").asLong(), "benchmarks are unpaid");
        backend.verification().verifyPending();
        return lease;
    }

    private String submitIds(int[] ids, int maxTokens) throws Exception {
        Resp r = api.post("/api/jobs", CUSTOMER_KEY, """
                {"model":"synthetic-tiny-f32","prompt_ids":%s,"max_tokens":%d,"sampling":{"temperature":0}}"""
                .formatted(Json.MAPPER.writeValueAsString(ids), maxTokens));
        assertEquals(202, r.status(), r.text());
        return r.json().path("id").asText();
    }

    private int[] promptIds(String text) {
        return LlamaModel.load(ByteBuffer.wrap(nodes.tinyFile())).tokenizer().encode(text, true);
    }

    private JsonNode job(String id) {
        return api.get("/api/jobs/" + id, CUSTOMER_KEY).json();
    }

    private static Set<String> fields(JsonNode o) {
        Set<String> s = new TreeSet<>();
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            s.add(it.next());
        }
        return s;
    }

    @Test
    void theFirstJobIsABenchmarkAndItsTimingBecomesTheCapability() {
        String customerJob = api.submit("Hello there", 8).path("id").asText();
        Node n = nodes.register("\"engines\":[\"jvm\"]");
        JsonNode lease = nodes.poll(n);
        assertNotEquals(customerJob, lease.path("job_id").asText(), "the benchmark comes before the queue");
        assertTrue(isBenchmarkOf(lease, n));
        assertNull(nodes.poll(n), "no customer job before the session is measured");

        GenerationResult gen = nodes.run(lease);
        CLOCK.advance(Duration.ofSeconds(1));
        Resp r = nodes.submit(n, lease, gen, 20.0, 70.0);
        assertEquals(200, r.status(), r.text());
        assertEquals("pending", r.json().path("verification").asText());
        JsonNode engine = nodes.capability(n).path("engines").path(0);
        assertEquals("jvm", engine.path("engine").asText());
        assertEquals("measured", engine.path("status").asText());
        int promptTokens = LlamaModel.load(ByteBuffer.wrap(nodes.tinyFile())).tokenizer()
                .encode(lease.path("prompt").asText(), true).length;
        assertEquals(promptTokens / 0.020, engine.path("prefill_tok_s").asDouble(), 1e-6);
        assertEquals(gen.tokenIds().length < 2 ? 0 : (gen.tokenIds().length - 1) / 0.070,
                engine.path("decode_tok_s").asDouble(), 1e-6);
        assertEquals(1, backend.verification().verifyPending());
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM jobs WHERE id = ? AND status = "
                + "'completed' AND verification = 'passed'", lease.path("job_id").asText()));
        assertEquals(0, count(backend.database(), "SELECT COUNT(*) AS n FROM ledger_entries e JOIN "
                + "ledger_transactions t ON t.id = e.transaction_id WHERE t.job_id = ?",
                lease.path("job_id").asText()), "a benchmark moves no money");

        JsonNode customerLease = nodes.poll(n);
        assertEquals(customerJob, customerLease.path("job_id").asText());
        assertEquals(fields(customerLease), fields(lease), "a benchmark has the shape of a customer job");
        assertEquals(200, nodes.submit(n, customerLease, nodes.run(customerLease), 20.0, 70.0).status());
        assertEquals(0, backend.verification().verifyPending(), "sample-rate 0: a plausible result is skipped");
        assertEquals("completed", job(customerJob).path("status").asText());
        assertLedgerConsistent(backend.database());
    }

    @Test
    void anImplausiblyFastResultFailsLikeAForgedOne() throws Exception {
        Node fast = nodes.register("");
        Node zero = nodes.register("");
        Node honest = nodes.register("");
        for (Node n : new Node[] {fast, zero, honest}) {
            benchmark(n, 50.0, 200.0);
        }
        String jobId = submitIds(promptIds("the quick brown fox"), 8);
        long customerBefore = available(CUSTOMER);

        // 20 x faster than its own benchmark: more than capability-factor (10): held for a new benchmark, which
        // measures the same speed as the first, so the result is still 20 x too fast and fails
        JsonNode lease = nodes.poll(fast);
        assertEquals(jobId, lease.path("job_id").asText());
        GenerationResult gen = nodes.run(lease);
        int[] prompt = promptIds("the quick brown fox");
        double[] t = nodes.timingAt(fast, prompt.length, gen.tokenIds().length, 20);
        Resp r = nodes.submit(fast, lease, gen, t[0], t[1]);
        assertEquals("pending", r.json().path("verification").asText(), "verified although sample-rate is 0");
        assertEquals(0, backend.verification().verifyPending(), "held for a new benchmark");
        assertEquals("stale", nodes.capability(fast).path("engines").path(0).path("status").asText());
        benchmark(fast, 50.0, 200.0); // its verifyPending fails the held result
        assertEquals("queued", job(jobId).path("status").asText());
        assertEquals("failed", job(jobId).path("verification").asText());
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM rejected_results WHERE job_id = ? AND "
                + "reason LIKE 'implausible timing: %more than 10.0 x the measured% (benchmarked again)'", jobId));
        assertEquals(customerBefore, available(CUSTOMER), "refunded");
        assertEquals(0, backend.ledger().pending(backend.database().execute(),
                Ledger.accountId("node_session", fast.id())));

        // no time at all: above the physical ceiling whatever the node's capability
        lease = nodes.poll(zero);
        assertEquals(jobId, lease.path("job_id").asText());
        nodes.submit(zero, lease, gen, 0.0, 0.0);
        assertEquals(1, backend.verification().verifyPending());
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM rejected_results WHERE job_id = ? AND "
                + "reason LIKE 'implausible timing: %physical ceiling%'", jobId));

        lease = nodes.poll(honest);
        assertEquals(jobId, lease.path("job_id").asText());
        t = nodes.timingAt(honest, prompt.length, gen.tokenIds().length, 0.8);
        nodes.submit(honest, lease, gen, t[0], t[1]);
        assertEquals(0, backend.verification().verifyPending(), "plausible: not sampled");
        assertEquals("completed", job(jobId).path("status").asText());
        assertEquals(customerBefore - 200 - 60 * 8, available(CUSTOMER), "charged once");
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aOneTokenAnswerToATextPromptIsCheckedToo() {
        Node zero = nodes.register("");
        Node fast = nodes.register("");
        for (Node n : new Node[] {zero, fast}) {
            benchmark(n, 50.0, 200.0);
        }
        String prompt = "the quick brown fox";
        String jobId = api.submit(prompt, 1).path("id").asText();

        // no time at all: a 1-token answer has no decode speed, and its text prompt at least its BOS and one token
        JsonNode lease = nodes.poll(zero);
        assertEquals(jobId, lease.path("job_id").asText());
        GenerationResult gen = nodes.run(lease);
        assertEquals(1, gen.tokenIds().length);
        assertEquals(200, nodes.submit(zero, lease, gen, 0.0, 0.0).status());
        assertEquals(1, backend.verification().verifyPending());
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM rejected_results WHERE job_id = ? AND "
                + "reason LIKE 'implausible timing: prefill %physical ceiling%'", jobId));

        // 20 x faster than its benchmark: the text prompt's length is read with the benchmark model's tokenizer
        lease = nodes.poll(fast);
        assertEquals(jobId, lease.path("job_id").asText(), "re-queued after the failed result");
        double[] t = nodes.timingAt(fast, promptIds(prompt).length, 1, 20);
        Resp r = nodes.submit(fast, lease, gen, t[0], t[1]);
        assertEquals("pending", r.json().path("verification").asText(), "verified although sample-rate is 0");
        assertEquals(0, backend.verification().verifyPending(), "held for a new benchmark");
        assertEquals("stale", nodes.capability(fast).path("engines").path(0).path("status").asText());
        // benchmarked again at the same prefill speed (benchmark prompts differ in length, so not in the same time):
        // the held result is still 20 x too fast and fails
        double prefillTokS = nodes.capability(fast).path("engines").path(0).path("prefill_tok_s").asDouble();
        JsonNode again = nodes.poll(fast);
        assertTrue(isBenchmarkOf(again, fast), "a new benchmark first: " + again);
        double prefillMs = promptIds(again.path("prompt").asText()).length / prefillTokS * 1000;
        CLOCK.advance(Duration.ofMillis((long) (prefillMs + 200.0) + 1));
        assertEquals(200, nodes.submit(fast, again, nodes.run(again), prefillMs, 200.0).status());
        backend.verification().verifyPending();
        assertEquals(2, count(backend.database(), "SELECT COUNT(*) AS n FROM rejected_results WHERE job_id = ?",
                jobId));

        Node other = nodes.register(""); // the re-queued job is done by another node (it leaves no queued job behind)
        benchmark(other, 50.0, 200.0);
        lease = nodes.poll(other);
        assertEquals(jobId, lease.path("job_id").asText());
        t = nodes.timingAt(other, promptIds(prompt).length, 1, 0.8);
        assertEquals(200, nodes.submit(other, lease, gen, t[0], t[1]).status());
        assertEquals("completed", job(jobId).path("status").asText());
        assertLedgerConsistent(backend.database());
    }

    /** Leases the customer job {@code jobId} and reports it {@code factor} x faster than the node's capability. */
    private Resp resultFasterThanCapability(Node n, String jobId, int[] prompt, double factor) {
        JsonNode lease = nodes.poll(n);
        assertEquals(jobId, lease.path("job_id").asText());
        GenerationResult gen = nodes.run(lease);
        double[] t = nodes.timingAt(n, prompt.length, gen.tokenIds().length, factor);
        Resp r = nodes.submit(n, lease, gen, t[0], t[1]);
        assertEquals(200, r.status(), r.text());
        assertEquals("pending", r.json().path("verification").asText(), "verified although sample-rate is 0");
        return r;
    }

    @Test
    void aResultFasterThanABenchmarkRunOnABusyMachineIsHeldThenPaidOnceBenchmarkedAgain() throws Exception {
        Node busy = nodes.register("");
        benchmark(busy, 50.0 * 20, 200.0 * 20); // its machine was busy: 20 x slower than the node really is
        int[] prompt = promptIds("a machine that was busy");
        String jobId = submitIds(prompt, 8);
        String account = Ledger.accountId("node_session", busy.id());

        Resp r = resultFasterThanCapability(busy, jobId, prompt, 20); // its real speed
        long payout = r.json().path("payout_micro_usdc").asLong();
        assertTrue(payout > 0, r.text());
        assertEquals(0, backend.verification().verifyPending(), "held for a new benchmark, not failed");
        assertEquals("verifying", job(jobId).path("status").asText());
        assertEquals("stale", nodes.capability(busy).path("engines").path(0).path("status").asText());
        assertEquals(payout, backend.ledger().pending(backend.database().execute(), account), "credit withheld");
        assertEquals(0, available(account));

        benchmark(busy, 50.0, 200.0); // not busy now: the result fits the new capability and is verified as usual
        assertEquals("measured", nodes.capability(busy).path("engines").path(0).path("status").asText());
        assertEquals("completed", job(jobId).path("status").asText());
        assertEquals("passed", job(jobId).path("verification").asText());
        assertEquals(0, count(backend.database(), "SELECT COUNT(*) AS n FROM rejected_results WHERE job_id = ?",
                jobId));
        assertEquals(payout, available(account), "paid, nothing forfeited");
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aHeldResultFailsWhenItsEngineIsNotBenchmarkedAgainInTime() throws Exception {
        Node gone = nodes.register("");
        benchmark(gone, 50.0, 200.0);
        int[] prompt = promptIds("a node that went away");
        String jobId = submitIds(prompt, 8);
        resultFasterThanCapability(gone, jobId, prompt, 20);
        assertEquals(0, backend.verification().verifyPending(), "held");
        CLOCK.advance(Duration.ofSeconds(REBENCHMARK_WAIT_SECONDS).minusMillis(1));
        assertEquals(0, backend.verification().verifyPending(), "held until the wait is over");
        CLOCK.advance(Duration.ofMillis(1));
        assertEquals(1, backend.verification().verifyPending());
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM rejected_results WHERE job_id = ? AND "
                + "reason LIKE 'implausible timing: %not benchmarked again in time'", jobId));
        assertEquals("queued", job(jobId).path("status").asText());
        assertEquals(0, backend.ledger().pending(backend.database().execute(),
                Ledger.accountId("node_session", gone.id())), "its credit is reversed");

        Node other = nodes.register(""); // the re-queued job is done by another node (it leaves no queued job behind)
        benchmark(other, 50.0, 200.0);
        JsonNode l = nodes.poll(other);
        assertEquals(jobId, l.path("job_id").asText());
        nodes.submit(other, l, nodes.run(l), 50.0, 200.0);
        assertEquals("completed", job(jobId).path("status").asText());
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aFailedBenchmarkBarsTheSession() {
        Node cheat = nodes.register("");
        JsonNode lease = nodes.poll(cheat);
        assertTrue(isBenchmarkOf(lease, cheat));
        Random rnd = new Random(7);
        int[] ids = new int[8];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 20 + rnd.nextInt(280);
        }
        CLOCK.advance(Duration.ofSeconds(1));
        nodes.submit(cheat, lease, new GenerationResult(ids, "forged", 10, 10), 10.0, 40.0);
        assertEquals(1, backend.verification().verifyPending());
        String customerJob = api.submit("Hello there", 8).path("id").asText();
        assertNull(nodes.poll(cheat), "no customer job, and no second benchmark");
        assertEquals("failed", nodes.capability(cheat).path("engines").path(0).path("status").asText());
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM jobs WHERE benchmark_for = ? AND "
                + "status = 'failed'", cheat.id()));
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM jobs WHERE benchmark_for = ?",
                cheat.id()));

        Node good = nodes.register("");
        benchmark(good, 50.0, 200.0);
        JsonNode l = nodes.poll(good);
        assertEquals(customerJob, l.path("job_id").asText());
        nodes.submit(good, l, nodes.run(l), 50.0, 200.0);
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aBenchmarkReportingMoreTimeThanPassedFails() {
        Node n = nodes.register("");
        JsonNode lease = nodes.poll(n);
        CLOCK.advance(Duration.ofMillis(500));
        Resp r = nodes.submit(n, lease, nodes.run(lease), 4000.0, 4000.0); // 8 s in 0.5 s
        assertEquals("pending", r.json().path("verification").asText());
        assertEquals("failed", nodes.capability(n).path("engines").path(0).path("status").asText());
        assertEquals(1, backend.verification().verifyPending());
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM rejected_results WHERE job_id = ? AND "
                + "reason LIKE 'implausible timing: %passed between the lease and the result'",
                lease.path("job_id").asText()));
        api.submit("Hello there", 8);
        assertNull(nodes.poll(n));
        Node good = nodes.register("");
        benchmark(good, 50.0, 200.0);
        JsonNode l = nodes.poll(good);
        nodes.submit(good, l, nodes.run(l), 50.0, 200.0);
    }
}
