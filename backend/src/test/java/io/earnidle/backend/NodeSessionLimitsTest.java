package io.earnidle.backend;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.LeaseApi.Node;
import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.Resp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Registration is rate-limited per client address and placement, and node sessions expire (docs/trust.md), on a
 * virtual clock.
 */
@ServerTest
class NodeSessionLimitsTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final int PER_WINDOW = 3;
    private static final long WINDOW_SECONDS = 60;
    private static final long MAX_AGE_SECONDS = 30; // below min-seconds (60): every lease outlives it
    private final Api api;
    private final LeaseApi leases;

    NodeSessionLimitsTest(Http1Client client) {
        this.api = new Api(client);
        this.leases = new LeaseApi(api);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.ledger.verification-window-seconds", "0", "earnidle.trust.sample-rate", "0",
                "earnidle.leases.registration.max-per-window", String.valueOf(PER_WINDOW),
                "earnidle.leases.registration.window-seconds", String.valueOf(WINDOW_SECONDS),
                "earnidle.leases.session-max-age-seconds", String.valueOf(MAX_AGE_SECONDS),
                "earnidle.leases.watchdog-interval-ms", "0"), CLOCK);
    }

    private Resp register() {
        return api.post("/api/nodes", null, """
                {"placement_id":"demo-placement","capabilities":{},"limits":{}}""");
    }

    @Test
    void registrationIsRateLimitedPerAddressAndPlacement() {
        CLOCK.advance(Duration.ofSeconds(WINDOW_SECONDS + 1)); // other tests' registrations are out of the window
        for (int i = 0; i < PER_WINDOW; i++) {
            assertEquals(201, register().status());
            CLOCK.advance(Duration.ofSeconds(10));
        }
        Resp limited = register();
        limited.problem(429, "rate-limited");
        // the first of the three leaves the window 60 - 30 s from now
        assertEquals(String.valueOf(WINDOW_SECONDS - 10 * PER_WINDOW + 1), limited.retryAfter());
        api.post("/api/nodes", null, "{\"placement_id\":\"nowhere\",\"capabilities\":{},\"limits\":{}}")
                .problem(404, "not-found"); // counted per placement: another one is not limited
        CLOCK.advance(Duration.ofSeconds(Long.parseLong(limited.retryAfter())));
        assertEquals(201, register().status(), "one registration left the window");
        register().problem(429, "rate-limited");
    }

    @Test
    void anExpiredSessionIsRefusedButMayFinishItsLease() {
        CLOCK.advance(Duration.ofSeconds(WINDOW_SECONDS + 1));
        Node node = leases.register(100_000);
        String jobId = api.submit("expiring", 4).path("id").asText();
        JsonNode lease = api.lease(node.token(), jobId);
        assertTrue(Duration.between(CLOCK.instant(), LeaseApi.expiry(lease)).toSeconds() > MAX_AGE_SECONDS,
                "the lease outlives the session");

        CLOCK.advance(Duration.ofSeconds(MAX_AGE_SECONDS));
        JsonNode p = api.get("/api/nodes/me", node.token()).problem(401, "session-expired");
        assertTrue(p.path("detail").asText().contains("register again"), p.toString());
        api.get("/api/inference/job", node.token()).problem(401, "session-expired");
        // the lease it holds can still be finished
        assertEquals(200, leases.progress(node, lease, new int[] {5}, "a").status());
        Resp r = api.result(node.token(), Api.resultBody(lease, "e"), UUID.randomUUID().toString());
        assertEquals(200, r.status(), r.text());
        assertEquals(201, register().status(), "the node registers again");
    }
}
