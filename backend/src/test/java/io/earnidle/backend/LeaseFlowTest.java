package io.earnidle.backend;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.db.Database;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.LeaseApi.Node;
import static io.earnidle.backend.LeaseApi.expiry;
import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static io.earnidle.backend.TestSupport.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Leases that fit the job (docs/trust.md): the lease's length from the node's speed, the job's size and the download
 * left; heartbeats that renew it and store the partial output; the watchdog (driven here with a virtual clock) that
 * re-queues a stalled job and counts it against the node; failure reports; max-attempts; the lease cap.
 */
@ServerTest
class LeaseFlowTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    // the configured estimate (application.yaml keys under earnidle.leases, set here to round numbers)
    private static final double OVERHEAD = 10;
    private static final double SAFETY = 2;
    private static final double PREFILL = 20; // tokens/s on a model of REFERENCE_BYTES
    private static final double DECODE = 1;
    private static final long REFERENCE_BYTES = 1_000_000;
    private static final long MIN_KBPS = 2000;
    private static final long MIN_SECONDS = 5;
    private static final String PROMPT = "the quick brown fox"; // 19 bytes: at most 20 tokens with the BOS
    private final Api api;
    private final LeaseApi leases;

    LeaseFlowTest(Http1Client client) {
        this.api = new Api(client);
        this.leases = new LeaseApi(api);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                // synthetic results, completed unverified (their timings are the node's reported speed)
                "earnidle.ledger.verification-window-seconds", "0", "earnidle.trust.sample-rate", "0",
                "earnidle.leases.min-seconds", String.valueOf(MIN_SECONDS),
                "earnidle.leases.overhead-seconds", String.valueOf(OVERHEAD),
                "earnidle.leases.safety-factor", String.valueOf(SAFETY),
                "earnidle.leases.default-prefill-tokens-per-s", String.valueOf(PREFILL),
                "earnidle.leases.default-decode-tokens-per-s", String.valueOf(DECODE),
                "earnidle.leases.reference-model-bytes", String.valueOf(REFERENCE_BYTES),
                "earnidle.leases.min-bandwidth-kbps", String.valueOf(MIN_KBPS),
                "earnidle.leases.watchdog-interval-ms", "0"), CLOCK);
    }

    private static Instant now() {
        return CLOCK.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private static long secondsLeft(JsonNode lease) {
        return Duration.between(now(), expiry(lease)).toSeconds();
    }

    /** overhead + safety × (download + prompt / prefill + tokens / decode), rounded up, at least min-seconds. */
    private static long expected(double downloadS, double promptTokens, double prefillTps, double tokens,
                                 double decodeTps) {
        double s = OVERHEAD + SAFETY * (downloadS + promptTokens / prefillTps + tokens / decodeTps);
        return Math.max(MIN_SECONDS, (long) Math.ceil(s));
    }

    private static double scale(JsonNode lease) {
        return (double) REFERENCE_BYTES / lease.path("model").path("size_bytes").asLong();
    }

    private static double downloadSeconds(JsonNode lease, long kbps) {
        return lease.path("model").path("size_bytes").asLong() * 8.0 / (kbps * 1000.0);
    }

    /** Submits a job; the clock moves on 1 ms first, so jobs are queued (and leased) in submission order. */
    private String submit(int maxTokens) {
        CLOCK.advance(Duration.ofMillis(1));
        return api.submit(PROMPT, maxTokens).path("id").asText();
    }

    private void complete(Node node, JsonNode lease) {
        Resp r = api.result(node.token(), Api.resultBody(lease, "e"), UUID.randomUUID().toString());
        assertEquals(200, r.status(), r.text());
    }

    private String status(String jobId) {
        return api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json().path("status").asText();
    }

    private long leaseFailures(String jobId, String sessionId, String kind) {
        return count(backend.database(), "SELECT COUNT(*) AS n FROM lease_failures WHERE job_id = ? AND session_id = ?"
                + " AND kind = ?", jobId, sessionId, kind);
    }

    @Test
    void theLeaseFitsTheNodeTheJobAndTheDownloadLeft() {
        Node slow = leases.register(256);  // downloads at its own 256 kbit/s limit
        Node fast = leases.register(100_000); // assumed at min-bandwidth-kbps
        String first = submit(8);
        JsonNode lease = api.lease(slow.token(), first);
        double s = scale(lease);
        assertEquals(expected(downloadSeconds(lease, 256), 20, PREFILL * s, 8, DECODE * s), secondsLeft(lease));
        complete(slow, lease); // decode_ms 2.25 for 3 tokens: the node reports 1333 tokens/s on this model

        String big = submit(64);
        JsonNode bigLease = api.lease(fast.token(), big);
        assertEquals(expected(downloadSeconds(lease, MIN_KBPS), 20, PREFILL * s, 64, DECODE * s),
                secondsLeft(bigLease));
        complete(fast, bigLease);

        // the slow node now holds the model (no download) and decodes at its reported speed
        String again = submit(8);
        JsonNode warm = api.lease(slow.token(), again);
        assertEquals(expected(0, 20, PREFILL * s, 8, 3 * 1000 / 2.25), secondsLeft(warm));
        assertTrue(secondsLeft(warm) < secondsLeft(lease), "a warm, fast node gets a shorter lease");
        complete(slow, warm);
    }

    @Test
    void heartbeatsRenewTheLeaseAndStoreThePartialOutput() {
        Node node = leases.register(100_000);
        Node other = leases.register(100_000);
        String jobId = submit(8);
        JsonNode lease = api.lease(node.token(), jobId);
        Instant first = expiry(lease);
        long firstSeconds = secondsLeft(lease);
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM job_progress WHERE job_id = ?"
                + " AND lease_id = ? AND tokens_done = 0", jobId, lease.path("lease_id").asText()));

        CLOCK.advance(Duration.ofSeconds(firstSeconds - 2));
        Resp beat = leases.progress(node, lease, new int[] {17, 42}, " ab");
        assertEquals(200, beat.status(), beat.text());
        // 2 tokens in firstSeconds - 2 s: the 6 left at that observed speed (slower than the default)
        double observed = 2.0 / (firstSeconds - 2);
        assertEquals(expected(0, 0, 1, 6, Math.min(observed, DECODE * scale(lease))), secondsLeft(beat.json()));
        assertTrue(expiry(beat.json()).isAfter(first));
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM job_progress WHERE job_id = ?"
                + " AND tokens_done = 2 AND token_ids_json = '[17,42]' AND partial_text = ' ab' AND heartbeats = 1",
                jobId));

        CLOCK.advance(Duration.ofSeconds(5)); // past the first expiry: the renewal holds
        assertTrue(now().isAfter(first));
        assertEquals(0, backend.leases().expireStalled());
        assertEquals("leased", status(jobId));
        assertEquals(200, leases.progress(node, lease, new int[] {17, 42, 7, 9}, " abcd").status());

        // stale, foreign and malformed heartbeats
        leases.progress(other, lease, new int[] {17, 42, 7, 9, 1}, "x").problem(409, "conflict");
        leases.progress(node, "job_nope", lease.path("lease_id").asText(), 0, "[]", "")
                .problem(404, "not-found");
        leases.progress(node, jobId, lease.path("lease_id").asText(), 3, "[1,2]", "ab")
                .problem(400, "validation");
        leases.progress(node, lease, new int[] {17}, "a").problem(400, "validation"); // went backwards
        leases.progress(node, lease, new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, "a").problem(400, "validation");

        complete(node, lease);
        assertEquals("completed", status(jobId));
        leases.progress(node, lease, new int[] {17, 42, 7, 9, 1}, "x").problem(409, "conflict");
        assertLedgerConsistent(backend.database());
    }

    @Test
    void aHeartbeatAfterTheLeaseExpiredIsRefused() {
        Node node = leases.register(100_000);
        String jobId = submit(4);
        JsonNode lease = api.lease(node.token(), jobId);
        CLOCK.advance(Duration.ofSeconds(secondsLeft(lease) + 1));
        JsonNode p = leases.progress(node, lease, new int[] {5}, "a").problem(409, "conflict");
        assertTrue(p.path("detail").asText().contains("expired"), p.toString());
        Node other = leases.register(100_000);
        complete(other, api.lease(other.token(), jobId));
    }

    @Test
    void theWatchdogRequeuesAStalledJobAndCountsItAgainstTheNode() {
        Node stalled = leases.register(100_000);
        Node next = leases.register(100_000);
        String jobId = submit(4);
        JsonNode lease = api.lease(stalled.token(), jobId);
        assertEquals(200, leases.progress(stalled, lease, new int[] {5}, "a").status());
        assertEquals("leased", status(jobId));

        Instant expires = Database.instant(Database.get(backend.database().execute(), "job-by-id", jobId)
                .orElseThrow(), "lease_expires_at");
        CLOCK.advance(Duration.between(now(), expires).plusSeconds(1));
        assertEquals(1, backend.leases().expireStalled());
        assertEquals("queued", status(jobId));
        assertEquals(1, leaseFailures(jobId, stalled.id(), "timeout"));
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM lease_failures WHERE job_id = ?"
                + " AND tokens_done = 1 AND reason = 'timeout' AND wallet_address IS NULL", jobId));
        leases.progress(stalled, lease, new int[] {5, 6}, "ab").problem(409, "conflict");

        // the node that stalled on the job does not get it again; another node does
        assertEquals(204, api.get("/api/inference/job", stalled.token()).status());
        complete(next, api.lease(next.token(), jobId));
        assertEquals("completed", status(jobId));
    }

    @Test
    void aReportedFailureReleasesTheLeaseAtOnce() {
        Node oom = leases.register(100_000);
        Node next = leases.register(100_000);
        String jobId = submit(4);
        JsonNode lease = api.lease(oom.token(), jobId);
        leases.failure(oom, lease, "overheated").problem(400, "validation");
        Resp r = leases.failure(oom, lease, "out_of_memory");
        assertEquals(200, r.status(), r.text());
        assertEquals("queued", r.json().path("status").asText());
        assertEquals(1, r.json().path("failed_attempts").asLong());
        assertEquals(3, r.json().path("max_attempts").asLong());
        assertEquals(1, count(backend.database(), "SELECT COUNT(*) AS n FROM lease_failures WHERE job_id = ?"
                + " AND session_id = ? AND kind = 'reported' AND reason = 'out_of_memory'"
                + " AND detail = 'test: out_of_memory'", jobId, oom.id()));
        leases.failure(oom, lease, "out_of_memory").problem(409, "conflict"); // the lease is gone
        assertEquals("queued", status(jobId));
        complete(next, api.lease(next.token(), jobId)); // at once, no clock moved
    }

    @Test
    void afterMaxAttemptsFailedTheJobFailsAndItsReservationIsReleased() {
        String committed = "SELECT COALESCE(SUM(price_micro_usdc), 0) AS n FROM jobs WHERE customer_id = ?"
                + " AND status IN ('queued', 'leased')";
        long before = count(backend.database(), committed, "demo-customer");
        String jobId = submit(4);
        long price = 200 + 60 * 4;
        assertEquals(before + price, count(backend.database(), committed, "demo-customer"));

        Node a = leases.register(100_000);
        JsonNode la = api.lease(a.token(), jobId);
        CLOCK.advance(Duration.ofSeconds(secondsLeft(la) + 1));
        Node b = leases.register(100_000);
        JsonNode lb = api.lease(b.token(), jobId); // the poll re-queued a's expired lease first
        assertEquals(1, leaseFailures(jobId, a.id(), "timeout"));
        assertEquals("queued", leases.failure(b, lb, "engine_error").json().path("status").asText());
        Node c = leases.register(100_000);
        Resp last = leases.failure(c, api.lease(c.token(), jobId), "download_failed");
        assertEquals(200, last.status(), last.text());
        assertEquals("failed", last.json().path("status").asText());
        assertEquals(3, last.json().path("failed_attempts").asLong());

        assertEquals("failed", status(jobId));
        assertEquals(before, count(backend.database(), committed, "demo-customer"), "the reservation is released");
        assertEquals(0, count(backend.database(), "SELECT COUNT(*) AS n FROM ledger_transactions WHERE job_id = ?",
                jobId), "the customer was never charged");
        Node d = leases.register(100_000);
        assertEquals(204, api.get("/api/inference/job", d.token()).status());
    }

    @Test
    void aSessionHoldsAtMostOneLease() {
        Node node = leases.register(100_000);
        Node other = leases.register(100_000);
        String one = submit(4);
        String two = submit(4);
        JsonNode lease = api.lease(node.token(), one);
        Resp capped = api.get("/api/inference/job", node.token());
        capped.problem(429, "lease-cap");
        assertEquals(String.valueOf(secondsLeft(lease)), capped.retryAfter());
        JsonNode otherLease = api.lease(other.token(), two);
        complete(node, lease);
        complete(other, otherLease);
        assertEquals(204, api.get("/api/inference/job", node.token()).status(), "the cap is free again");
    }
}
