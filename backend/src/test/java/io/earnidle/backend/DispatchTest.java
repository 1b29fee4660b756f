package io.earnidle.backend;

import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Ids;
import io.helidon.http.HeaderNames;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webclient.http1.Http1ClientResponse;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.CapabilityNodes.Node;
import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.Resp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Eligibility, warm preference and reputation rank (docs/trust.md): a node proves it holds a model file by the SHA-256 of a byte range
 * the backend chose; a job waits preference-wait-ms for an idle warm node before a cold one gets it; a wrong proof
 * or a file the node no longer lists is not warm; engines that cannot run the model's tensor types, and a download
 * the visitor's bandwidth limit does not allow, make a node ineligible. Benchmarks are off here (CapabilityTest).
 */
@ServerTest
class DispatchTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private final Http1Client client;
    private final Api api;
    private final CapabilityNodes nodes;

    DispatchTest(Http1Client client) {
        this.client = client;
        this.api = new Api(client);
        this.nodes = new CapabilityNodes(api);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.capability.dispatch.preference-wait-ms", "5000",
                "earnidle.capability.dispatch.live-seconds", "15",
                // every poll reads its rivals: the tests poll at one instant of the clock (RivalSnapshotTest: shared)
                "earnidle.capability.dispatch.rival-snapshot-ms", "0",
                "earnidle.capability.dispatch.engine-types.testgpu.0", "q4_0",
                "earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.sample-rate", "0"), CLOCK);
    }

    @BeforeEach
    void sessionsOfEarlierTestsGoStale() {
        CLOCK.advance(Duration.ofMinutes(5));
    }

    private String tinySha() {
        return Ids.sha256Hex(nodes.tinyFile());
    }

    private Node warm(boolean honest) {
        return nodes.warm(honest);
    }

    private void complete(Node n, JsonNode lease) {
        assertEquals(200, api.result(n.token(), Api.resultBody(lease, "jvm"), java.util.UUID.randomUUID()
                .toString()).status());
    }

    @Test
    void aWarmNodeIsPreferredUntilTheJobHasWaited() {
        Node warm = warm(true);
        Node cold = nodes.register("");
        String first = api.submit("Hello", 8).path("id").asText();
        assertNull(nodes.poll(cold), "left to the idle warm node");
        JsonNode lease = nodes.poll(warm);
        assertEquals(first, lease.path("job_id").asText());
        complete(warm, lease);

        String second = api.submit("Hello", 8).path("id").asText();
        assertNull(nodes.poll(cold));
        CLOCK.advance(Duration.ofSeconds(6)); // past preference-wait-ms; the warm node is still live and idle
        lease = nodes.poll(cold);
        assertEquals(second, lease.path("job_id").asText(), "anyone eligible once the job has waited");
        complete(cold, lease);
    }

    /**
     * A better idle session takes one job at a time: with more jobs waiting than better sessions, the lesser session
     * takes one now (the oldest) and the better one the next, instead of both jobs waiting for the better session
     * (one job and one better session: left to it, {@link #aWarmNodeIsPreferredUntilTheJobHasWaited}).
     */
    @Test
    void moreWaitingJobsThanBetterNodesAreNotLeftWaiting() {
        Node drainer = nodes.register("");
        for (JsonNode left = nodes.poll(drainer); left != null; left = nodes.poll(drainer)) {
            complete(drainer, left); // jobs earlier tests left queued, long past their wait: anyone's
        }
        CLOCK.advance(Duration.ofSeconds(16)); // past live-seconds: the drainer (now warm) is no rival
        Node warm = warm(true);
        Node cold = nodes.register("");
        String first = api.submit("Hello", 8).path("id").asText();
        CLOCK.advance(Duration.ofMillis(1)); // the queue is oldest first
        String second = api.submit("Hello", 8).path("id").asText();
        JsonNode coldLease = nodes.poll(cold);
        assertEquals(first, coldLease.path("job_id").asText(), "two jobs wait for one better session");
        JsonNode warmLease = nodes.poll(warm);
        assertEquals(second, warmLease.path("job_id").asText());
        complete(cold, coldLease);
        complete(warm, warmLease);
    }

    /**
     * Among cold idle nodes the better reputation is preferred: the identity's counters, by linked wallet or by
     * session (no wallet), as the rival scan reads them with each session's row.
     */
    @Test
    void aBetterReputationIsPreferredUntilTheJobHasWaited() {
        Node plain = nodes.register("");
        Node bySession = nodes.register("");
        Node byWallet = nodes.register("");
        var at = CLOCK.instant().atOffset(java.time.ZoneOffset.UTC);
        var exec = backend.database().execute();
        exec.dml("INSERT INTO reputations (identity, successes, failures, timeouts, successes_since_failure, "
                + "updated_at) VALUES (?, 5, 0, 0, 5, ?)", "session:" + bySession.id(), at);
        String wallet = "0x" + "ab".repeat(20);
        exec.dml("INSERT INTO wallets (address, verified_at, created_at) VALUES (?, ?, ?)", wallet, at, at);
        exec.dml("UPDATE node_sessions SET wallet_address = ? WHERE id = ?", wallet, byWallet.id());
        exec.dml("INSERT INTO reputations (identity, successes, failures, timeouts, successes_since_failure, "
                + "updated_at) VALUES (?, 50, 0, 0, 50, ?)", "wallet:" + wallet, at);

        String first = api.submit("Hello", 8).path("id").asText();
        assertNull(nodes.poll(plain), "left to the idle sessions with a better reputation");
        assertNull(nodes.poll(bySession), "left to the idle session whose wallet ranks higher");
        CLOCK.advance(Duration.ofMillis(1)); // the queue is oldest first
        String second = api.submit("Hello", 8).path("id").asText();
        assertNull(nodes.poll(plain), "two waiting jobs, two better idle sessions: left to them");
        JsonNode bySessionLease = nodes.poll(bySession);
        assertEquals(first, bySessionLease.path("job_id").asText(), "two waiting jobs, one better idle session");
        // bySession is busy now: one job waits, and byWallet ranks above plain
        assertNull(nodes.poll(plain), "left to the idle session whose wallet ranks higher");
        JsonNode byWalletLease = nodes.poll(byWallet);
        assertEquals(second, byWalletLease.path("job_id").asText());
        complete(bySession, bySessionLease);
        complete(byWallet, byWalletLease);
    }

    @Test
    void aWarmNodeThatIsBusyIsNotWaitedFor() {
        Node warm = warm(true);
        Node cold = nodes.register("");
        String first = api.submit("Hello", 8).path("id").asText();
        CLOCK.advance(Duration.ofMillis(1)); // the queue is oldest first
        String second = api.submit("Hello", 8).path("id").asText();
        assertEquals(first, nodes.poll(warm).path("job_id").asText());
        JsonNode lease = nodes.poll(cold);
        assertEquals(second, lease.path("job_id").asText(), "the warm node holds a lease: not idle");
        complete(cold, lease);
        CLOCK.advance(Duration.ofMinutes(2)); // the warm node's lease runs out; the job goes to the next poll
        complete(cold, nodes.poll(cold));
    }

    @Test
    void aWrongProofOrADroppedFileIsNotWarm() {
        Node liar = warm(false);
        Node dropped = warm(true);
        assertNull(nodes.poll(dropped)); // nothing queued yet
        try (Http1ClientResponse r = client.get("/api/inference/job").queryParam("held", "")
                .header(HeaderNames.AUTHORIZATION, "Bearer " + dropped.token()).request()) {
            assertEquals(204, r.status().code()); // the node lists no file: it holds nothing now
        }
        assertFalse(nodes.capability(dropped).path("warm_models").toString().contains(tinySha()));
        Node cold = nodes.register("");
        String id = api.submit("Hello", 8).path("id").asText();
        JsonNode lease = nodes.poll(cold);
        assertEquals(id, lease.path("job_id").asText(), "no rival is warm");
        complete(cold, lease);
        assertTrue(nodes.capability(cold).path("warm_models").toString().contains(tinySha()),
                "a node that delivered a result on the file holds it");
        assertFalse(nodes.capability(liar).path("warm_models").toString().contains(tinySha()));
    }

    @Test
    void enginesAndConsentLimitsDecideEligibility() {
        Node gpuOnly = nodes.register("\"engines\":[\"testgpu\"]"); // runs q4_0 only; the tiny model is f32
        Node slowLink = nodes.register("{\"memory_mb\":512,\"bandwidth_kbps\":1}", ""); // 548 KiB: 75 min
        Node able = nodes.register("\"engines\":[\"testgpu\",\"jvm\"]");
        String id = api.submit("Hello", 8).path("id").asText();
        assertNull(nodes.poll(gpuOnly));
        assertNull(nodes.poll(slowLink));
        JsonNode lease = nodes.poll(able);
        assertEquals(id, lease.path("job_id").asText());
        complete(able, lease);
    }
}
