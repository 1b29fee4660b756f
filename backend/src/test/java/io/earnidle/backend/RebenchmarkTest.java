package io.earnidle.backend;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Json;
import io.earnidle.node.llama.LlamaModel;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.CapabilityNodes.Node;
import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A session whose verified work is far faster (rebenchmark-factor 3) than its benchmark, yet not implausibly so
 * (capability-factor 10), is benchmarked again (docs/trust.md). Every result is verified here (sample-rate 1).
 */
@ServerTest
class RebenchmarkTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private final Api api;
    private final CapabilityNodes nodes;

    RebenchmarkTest(Http1Client client) {
        this.api = new Api(client);
        this.nodes = new CapabilityNodes(api);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.capability.benchmark.enabled", "true",
                "earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.sample-rate", "1",
                "earnidle.trust.verifier-threads", "0"), CLOCK);
    }

    private boolean isBenchmarkOf(JsonNode lease, Node n) {
        return count(backend.database(), "SELECT COUNT(*) AS n FROM jobs WHERE id = ? AND benchmark_for = ?",
                lease.path("job_id").asText(), n.id()) == 1;
    }

    @Test
    void verifiedWorkFarFasterThanTheBenchmarkIsBenchmarkedAgain() throws Exception {
        Node n = nodes.register("");
        JsonNode bench = nodes.poll(n);
        assertTrue(isBenchmarkOf(bench, n));
        CLOCK.advance(Duration.ofSeconds(3));
        nodes.submit(n, bench, nodes.run(bench), 500.0, 2000.0); // slow: sandbagged, or the machine was busy
        assertEquals(1, backend.verification().verifyPending());

        int[] ids = LlamaModel.load(ByteBuffer.wrap(nodes.tinyFile())).tokenizer().encode("the quick brown fox", true);
        Resp job = api.post("/api/jobs", CUSTOMER_KEY, """
                {"model":"synthetic-tiny-f32","prompt_ids":%s,"max_tokens":8,"sampling":{"temperature":0}}"""
                .formatted(Json.MAPPER.writeValueAsString(ids)));
        assertEquals(202, job.status(), job.text());
        JsonNode lease = nodes.poll(n);
        assertEquals(job.json().path("id").asText(), lease.path("job_id").asText());
        // 5 x faster than measured: plausible, but far faster than the benchmark
        var gen = nodes.run(lease);
        double[] t = nodes.timingAt(n, ids.length, gen.tokenIds().length, 5);
        Resp r = nodes.submit(n, lease, gen, t[0], t[1]);
        assertEquals(200, r.status(), r.text());
        assertEquals("measured", nodes.capability(n).path("engines").path(0).path("status").asText(),
                "not before the work is verified");
        assertEquals(1, backend.verification().verifyPending());
        assertEquals("passed", api.get("/api/jobs/" + job.json().path("id").asText(), CUSTOMER_KEY).json()
                .path("verification").asText());
        assertEquals("stale", nodes.capability(n).path("engines").path(0).path("status").asText(),
                "made stale when the work passed verification, before any poll");

        JsonNode again = nodes.poll(n);
        assertTrue(isBenchmarkOf(again, n), "benchmarked again: " + again);
        assertEquals("stale", nodes.capability(n).path("engines").path(0).path("status").asText());
        CLOCK.advance(Duration.ofSeconds(1));
        nodes.submit(n, again, nodes.run(again), 100.0, 400.0);
        JsonNode remeasured = nodes.capability(n).path("engines").path(0);
        assertEquals("measured", remeasured.path("status").asText());
        assertEquals(1, backend.verification().verifyPending());
    }
}
