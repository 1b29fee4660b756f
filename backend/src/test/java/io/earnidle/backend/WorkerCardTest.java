package io.earnidle.backend;

import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;

import javax.xml.parsers.DocumentBuilderFactory;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.wallets.EthSignatures;
import io.helidon.http.HeaderNames;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webclient.http1.Http1ClientResponse;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Worker cards and badges (issue 22, docs/stats.md) over HTTP: a wallet's node does real jobs (the JVM engine, every
 * result verified in Probation) on a hand-moved clock, so jobs done, pass rates, latency (lease to result, as the
 * server saw it), uptime and first seen are known exactly; the card is the same by wallet and by session, carries no
 * private field, and the badge shows its tier and score.
 */
@ServerTest
class WorkerCardTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final String PROMPT = "the quick brown fox";
    private final Http1Client client;
    private final TestSupport.Api api;
    private final TrustNodes nodes;

    WorkerCardTest(Http1Client client) {
        this.client = client;
        this.api = new TestSupport.Api(client);
        this.nodes = new TrustNodes(api);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.trust.verifier-threads", "0",
                "earnidle.trust.canary.rate", "0"), CLOCK);
    }

    /** Leases the next job, waits {@code took} on the clock, answers it honestly and verifies it. */
    private void job(TrustNodes.Node node, Duration took) {
        String jobId = nodes.submit(PROMPT, 4);
        JsonNode lease = nodes.poll(node);
        assertNotNull(lease, "a job for the node");
        assertEquals(jobId, lease.path("job_id").asText());
        CLOCK.advance(took);
        nodes.honest(node, lease);
        backend.verification().verifyPending();
        assertEquals("passed", nodes.job(jobId).path("verification").asText());
    }

    @Test
    void aWalletsCardShowsItsWorkAndNothingPrivate() {
        Instant born = CLOCK.instant();
        TrustNodes.Node node = nodes.register(nodes.wallet(born));
        job(node, Duration.ofMillis(250));
        job(node, Duration.ofMillis(1000));
        CLOCK.advance(Duration.ofHours(2));
        assertEquals(null, nodes.poll(node), "no more jobs; the poll is the last time the node is seen");
        Instant lastSeen = CLOCK.instant();
        CLOCK.advance(Duration.ofHours(1));

        JsonNode bySession = api.get("/api/workers/" + node.id(), null).json();
        String wallet = bySession.path("wallet_address").asText();
        assertTrue(wallet.startsWith("0x") && wallet.equals(EthSignatures.checksum(wallet)), bySession.toString());
        JsonNode card = api.get("/api/workers/" + wallet.toLowerCase(), null).json();

        assertEquals(1, card.path("version").asInt());
        assertEquals("wallet", card.path("kind").asText());
        assertEquals(wallet, card.path("id").asText());
        assertEquals("session", bySession.path("kind").asText());
        assertEquals(node.id(), bySession.path("id").asText());
        for (JsonNode c : new JsonNode[] {card, bySession}) {
            assertEquals(2, c.path("jobs_done").asInt(), c.toString());
            assertEquals(1.0, c.path("success_rate").asDouble());
            assertEquals(2, c.path("verification").path("passed").asInt());
            assertEquals(0, c.path("verification").path("failed").asInt());
            assertEquals(1.0, c.path("verification").path("pass_rate").asDouble());
            assertEquals(2, c.path("latency_ms").path("samples").asInt());
            assertEquals(250, c.path("latency_ms").path("p50").asLong(), "nearest rank of {250, 1000}");
            assertEquals(1000, c.path("latency_ms").path("p99").asLong());
            long aliveMs = Duration.between(born, lastSeen).toMillis();
            assertEquals(Math.round(aliveMs * 10_000.0 / Duration.ofDays(7).toMillis()) / 10_000.0,
                    c.path("uptime").path("d7").asDouble(), c.toString());
            assertEquals(Math.round(aliveMs * 10_000.0 / Duration.ofDays(30).toMillis()) / 10_000.0,
                    c.path("uptime").path("d30").asDouble());
            assertEquals("[\"jvm\"]", c.path("engines").toString());
            // the database keeps milliseconds (H2) or microseconds (PostgreSQL)
            assertEquals(born.truncatedTo(ChronoUnit.MILLIS),
                    Instant.parse(c.path("first_seen").asText()).truncatedTo(ChronoUnit.MILLIS));
            assertEquals(lastSeen.truncatedTo(ChronoUnit.MILLIS),
                    Instant.parse(c.path("last_seen").asText()).truncatedTo(ChronoUnit.MILLIS));
            assertEquals("/verify/#session=" + node.id(), c.path("receipts_url").asText());
            assertEquals(node.id(), c.path("sessions").path(0).path("session_id").asText());
            JsonNode rep = c.path("reputation");
            assertEquals(2, rep.path("verified_successes").asInt());
            assertEquals(nodes.me(node).path("reputation_score").asInt(), rep.path("score").asInt());
            assertEquals(nodes.me(node).path("tier").asText(), rep.path("tier").asText());
            String text = c.toString();
            assertFalse(text.contains(node.token()), "no session token");
            assertFalse(text.contains("demo-placement"), "no placement (which site the visitor was on)");
            assertFalse(text.contains("127.0.0.1"), "no client address");
            assertFalse(text.contains("balance"), "no balance");
        }
    }

    @Test
    void aSessionWithoutAWalletHasACardInProbation() {
        TrustNodes.Node node = nodes.register(null);
        JsonNode card = api.get("/api/workers/" + node.id(), null).json();
        assertTrue(card.path("wallet_address").isNull(), card.toString());
        assertEquals("probation", card.path("reputation").path("tier").asText());
        assertEquals(0, card.path("jobs_done").asInt());
        assertTrue(card.path("success_rate").isNull(), "no attempts: no rate");
        assertTrue(card.path("latency_ms").path("p50").isNull());
        assertEquals("[]", card.path("engines").toString());
    }

    @Test
    void workersPathServesThePageOrTheJsonByAccept() {
        TrustNodes.Node node = nodes.register(null);
        try (Http1ClientResponse r = client.get("/workers/" + node.id())
                .header(HeaderNames.ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8").request()) {
            assertEquals(200, r.status().code());
            assertTrue(r.headers().contentType().orElseThrow().text().startsWith("text/html"));
            assertTrue(r.as(String.class).contains("/worker-card/card.js"));
        }
        try (Http1ClientResponse r = client.get("/workers/" + node.id())
                .header(HeaderNames.ACCEPT, "application/json").request()) {
            assertEquals(200, r.status().code());
            assertTrue(r.headers().contentType().orElseThrow().text().startsWith("application/json"));
            assertTrue(r.as(String.class).contains("\"session_id\":\"" + node.id() + "\""));
        }
        api.get("/api/workers/ns_nobody", null).problem(404, "not-found");
        api.get("/api/workers/0x" + "ab".repeat(20), null).problem(404, "not-found");
        api.get("/api/workers/not-a-worker", null).problem(404, "not-found");
        assertEquals(200, api.get("/worker-card/card.js", null).status(), "the page's script is served");
    }

    @Test
    void theBadgeShowsTierAndScoreAsCacheableSvg() throws Exception {
        TrustNodes.Node node = nodes.register(null);
        JsonNode card = api.get("/api/workers/" + node.id(), null).json();
        try (Http1ClientResponse r = client.get("/badge/" + node.id() + ".svg").request()) {
            assertEquals(200, r.status().code());
            assertEquals("image/svg+xml", r.headers().contentType().orElseThrow().mediaType().text());
            assertEquals("public, max-age=300", r.headers().first(HeaderNames.CACHE_CONTROL).orElseThrow());
            assertEquals("nosniff", r.headers().first(HeaderNames.create("X-Content-Type-Options")).orElseThrow());
            Document svg = parse(r.as(byte[].class));
            String shown = svg.getDocumentElement().getTextContent();
            assertTrue(shown.contains(card.path("reputation").path("tier").asText() + " "
                    + card.path("reputation").path("score").asInt()), shown);
        }
    }

    @Test
    void markupInTheBadgePathIsNeitherReflectedNorRun() throws Exception {
        String markup = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
        for (String path : new String[] {"/badge/" + markup + ".svg", "/badge/ns_" + markup + ".svg",
                                         "/badge/ns_x%22%3E%3Cimg%20onerror%3D1%3E.svg"}) {
            try (Http1ClientResponse r = client.get(path).request()) {
                assertEquals(404, r.status().code(), path);
                assertEquals("image/svg+xml", r.headers().contentType().orElseThrow().mediaType().text());
                byte[] body = r.as(byte[].class);
                String text = new String(body, java.nio.charset.StandardCharsets.UTF_8);
                assertFalse(text.contains("<script") || text.contains("<img") || text.contains("alert"), text);
                assertEquals(0, parse(body).getElementsByTagName("script").getLength());
            }
        }
        JsonNode p = api.get("/api/workers/" + markup, null).problem(404, "not-found");
        assertFalse(p.toString().contains("<script"), p.toString());
    }

    static Document parse(byte[] svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg));
    }
}
