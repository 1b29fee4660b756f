package io.earnidle.backend;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.ProblemHandler;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When every connection of the backend's pool is in use for the pool's whole {@code connectionTimeout}, a request of
 * any route is answered 503 busy with {@code Retry-After} (problem+json under {@code /api}, OpenAI's
 * {@code server_busy} under {@code /v1}), never a 500: the pool of one connection here is Hikari's own, exhausted
 * for real by a transaction the test holds open.
 */
@ServerTest
class PoolExhaustionTest extends BackendServerTest {
    private final Api api;

    PoolExhaustionTest(Http1Client client) {
        this.api = new Api(client);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        // Hikari's properties under db.connection: one connection, and the shortest wait Hikari allows for it
        start(routing, Map.of("db.connection.maximumPoolSize", "1", "db.connection.connectionTimeout", "250"),
                new TestSupport.MutableClock());
    }

    @Test
    void everyRouteAnswersBusyWhileThePoolHasNoFreeConnection() throws Exception {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> backend.database().inTransaction(tx -> {
            Database.get(tx, "ledger-account", "no-such-account"); // the transaction now holds the one connection
            held.countDown();
            try {
                assertTrue(release.await(1, TimeUnit.MINUTES), "the test released the connection");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        }));
        assertTrue(held.await(1, TimeUnit.MINUTES), "the holder took the connection");
        try {
            Resp register = api.post("/api/nodes", null, """
                    {"placement_id":"demo-placement","capabilities":{"wasm_simd":true,"cores":2},
                     "limits":{"cpu_share":0.5,"gpu":false,"memory_mb":512,"bandwidth_kbps":256}}""");
            JsonNode p = register.problem(503, "busy");
            assertTrue(p.path("detail").asText().contains("a free database connection"), register.text());
            assertEquals(String.valueOf(ProblemHandler.LOCK_RETRY_AFTER_SECONDS), register.retryAfter());

            Resp models = api.get("/v1/models", CUSTOMER_KEY);
            assertEquals(503, models.status(), models.text());
            assertEquals("server_busy", models.json().path("error").path("code").asText(), models.text());
            assertEquals("server_error", models.json().path("error").path("type").asText(), models.text());
            assertEquals(String.valueOf(ProblemHandler.LOCK_RETRY_AFTER_SECONDS), models.retryAfter());
        } finally {
            release.countDown();
            holder.get(1, TimeUnit.MINUTES);
        }
    }
}
