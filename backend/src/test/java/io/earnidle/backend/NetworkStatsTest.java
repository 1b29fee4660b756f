package io.earnidle.backend;

import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.helidon.http.HeaderNames;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webclient.http1.Http1ClientResponse;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /api/stats} (issue 22, docs/stats.md) on a fresh backend and a hand-moved clock: nodes online by engine
 * and tier, a verified job in the rates, the verification outcomes, the money paid and the chart series, then the
 * nodes going offline once the online window has passed.
 */
@ServerTest
class NetworkStatsTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private final Http1Client client;
    private final TestSupport.Api api;
    private final TrustNodes nodes;

    NetworkStatsTest(Http1Client client) {
        this.client = client;
        this.api = new TestSupport.Api(client);
        this.nodes = new TrustNodes(api);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.trust.verifier-threads", "0",
                "earnidle.trust.canary.rate", "0",
                "earnidle.stats.online-seconds", "60",
                "earnidle.stats.rate-window-seconds", "3600"), CLOCK);
    }

    private JsonNode stats() {
        try (Http1ClientResponse r = client.get("/api/stats").request()) {
            assertEquals(200, r.status().code());
            assertTrue(r.headers().contentType().orElseThrow().text().startsWith("application/json"));
            assertEquals("public, max-age=10", r.headers().first(HeaderNames.CACHE_CONTROL).orElseThrow());
            return TestSupport.MAPPER.readTree(r.as(byte[].class));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theStatsPageIsServedWithItsChartLibrary() {
        TestSupport.Resp page = api.get("/stats/", null);
        assertEquals(200, page.status());
        assertTrue(page.contentType().startsWith("text/html"), page.contentType());
        assertTrue(page.text().contains("/stats/stats.js") && page.text().contains("/stats/uPlot.min.css"));
        TestSupport.Resp script = api.get("/stats/stats.js", null);
        assertEquals(200, script.status());
        assertTrue(script.text().contains("/api/stats"), "the bundle reads the statistics API");
        assertEquals(200, api.get("/stats/uPlot.min.css", null).status());
    }

    @Test
    void statsFollowTheNetwork() {
        JsonNode empty = stats();
        assertEquals(1, empty.path("version").asInt());
        assertEquals(0, empty.path("nodes_online").path("total").asInt());
        assertEquals(0.0, empty.path("jobs_per_minute").asDouble());
        assertEquals(24, empty.path("series").path("24h").path("buckets").size());
        assertEquals(3600, empty.path("series").path("24h").path("bucket_seconds").asInt());
        assertEquals(28, empty.path("series").path("7d").path("buckets").size());
        assertEquals(21600, empty.path("series").path("7d").path("bucket_seconds").asInt());

        TrustNodes.Node node = nodes.register(null);
        TestSupport.Resp second = api.post("/api/nodes", null, """
                {"placement_id":"demo-placement","engines":["jvm","wasm-simd"],
                 "capabilities":{"webgpu":false,"wasm_simd":true,"threads":false,"cores":2,"device_memory_gb":8},
                 "limits":{"cpu_share":0.5,"gpu":false,"memory_mb":512,"bandwidth_kbps":256}}""");
        assertEquals(201, second.status(), second.text());
        String jobId = nodes.submit("the quick brown fox", 4);
        JsonNode lease = nodes.poll(node);
        assertNotNull(lease);
        assertEquals(jobId, lease.path("job_id").asText());
        nodes.honest(node, lease);
        backend.verification().verifyPending();
        assertEquals("passed", nodes.job(jobId).path("verification").asText());

        JsonNode s = stats();
        JsonNode online = s.path("nodes_online");
        assertEquals(2, online.path("total").asInt(), s.toString());
        assertEquals(1, online.path("by_engine").path("unknown").asInt(), "the first node reported no engines");
        assertEquals(1, online.path("by_engine").path("jvm").asInt());
        assertEquals(1, online.path("by_engine").path("wasm-simd").asInt());
        assertEquals(2, online.path("by_tier").path("probation").asInt());
        assertEquals(0, online.path("by_tier").path("trusted").asInt());

        long tokens = TestSupport.count(backend.database(), "SELECT SUM(token_count) AS n FROM job_results");
        assertTrue(tokens > 0);
        assertEquals(Math.round(60_000.0 / 3600) / 1000.0, s.path("jobs_per_minute").asDouble(), "1 job in the hour");
        assertEquals(Math.round(tokens * 1000.0 / 3600) / 1000.0, s.path("tokens_per_second").asDouble());
        assertEquals(1, s.path("verification").path("passed").asInt());
        assertEquals(0, s.path("verification").path("failed").asInt());

        long price = nodes.job(jobId).path("price_micro_usdc").asLong();
        long visitors = backend.database().inTransaction(tx -> backend.ledger().pending(tx, node.account()));
        JsonNode paid = s.path("paid_micro_usdc");
        assertEquals(visitors, paid.path("visitors").asLong(), s.toString());
        assertTrue(visitors > 0);
        assertEquals(price, paid.path("visitors").asLong() + paid.path("publishers").asLong()
                + paid.path("platform").asLong(), "the whole price is split");

        for (String range : new String[] {"24h", "7d"}) {
            JsonNode buckets = s.path("series").path(range).path("buckets");
            JsonNode last = buckets.path(buckets.size() - 1);
            assertEquals(1, last.path("jobs").asInt(), range + ": " + last);
            assertEquals(tokens, last.path("tokens").asLong());
            assertEquals(visitors, last.path("paid_visitors_micro_usdc").asLong());
            assertEquals(paid.path("publishers").asLong(), last.path("paid_publishers_micro_usdc").asLong());
            long jobsInRange = 0;
            for (JsonNode b : buckets) {
                jobsInRange += b.path("jobs").asLong();
            }
            assertEquals(1, jobsInRange);
        }

        CLOCK.advance(Duration.ofSeconds(61));
        JsonNode later = stats();
        assertEquals(0, later.path("nodes_online").path("total").asInt(), "not seen within the online window");
        assertEquals(1, later.path("verification").path("passed").asInt());
        CLOCK.advance(Duration.ofHours(1));
        assertEquals(0.0, stats().path("jobs_per_minute").asDouble(), "the job left the rate window");
    }
}
