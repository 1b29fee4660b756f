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

import static io.earnidle.backend.CapabilityNodes.Node;
import static io.earnidle.backend.TestSupport.Api;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The shared rival snapshot (docs/trust.md "Eligibility and dispatch"): an instance reads a model's idle rivals once
 * per {@code rival-snapshot-ms} for all its polls, so a rival's lease is seen that much later at most, and no later.
 * DispatchTest reads them on every poll.
 */
@ServerTest
class RivalSnapshotTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final long SNAPSHOT_MS = 1000;
    private final Api api;
    private final CapabilityNodes nodes;

    RivalSnapshotTest(Http1Client client) {
        this.api = new Api(client);
        this.nodes = new CapabilityNodes(api);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.capability.dispatch.preference-wait-ms", "5000",
                "earnidle.capability.dispatch.live-seconds", "15",
                "earnidle.capability.dispatch.rival-snapshot-ms", String.valueOf(SNAPSHOT_MS),
                "earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.sample-rate", "0"), CLOCK);
    }

    @Test
    void aRivalsLeaseIsSeenOnceTheSnapshotHasAged() {
        Node warm = nodes.warm(true);
        Node cold = nodes.register("");
        String first = api.submit("Hello", 8).path("id").asText();
        CLOCK.advance(Duration.ofMillis(1)); // the queue is oldest first
        String second = api.submit("Hello", 8).path("id").asText();
        JsonNode warmLease = nodes.poll(warm); // reads the rivals: both nodes idle
        assertEquals(first, warmLease.path("job_id").asText());

        assertNull(nodes.poll(cold), "the snapshot still shows the warm node idle: the job is left to it");
        CLOCK.advance(Duration.ofMillis(SNAPSHOT_MS - 1));
        assertNull(nodes.poll(cold), "still within the snapshot's age");
        CLOCK.advance(Duration.ofMillis(1));
        JsonNode coldLease = nodes.poll(cold);
        assertEquals(second, coldLease.path("job_id").asText(), "read again: the warm node holds a lease, not idle");

        for (var done : Map.of(warm, warmLease, cold, coldLease).entrySet()) {
            assertEquals(200, api.result(done.getKey().token(), Api.resultBody(done.getValue(), "jvm"),
                    UUID.randomUUID().toString()).status());
        }
    }
}
