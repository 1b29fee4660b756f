package io.earnidle.backend;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.leases.LeaseSettings;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.Resp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code earnidle.leases.dispatch: skip-locked}: polls read their candidates {@code FOR UPDATE SKIP LOCKED} (on H2
 * and, in the second surefire run, PostgreSQL). Concurrent polls never lease one job twice, every job is leased, and
 * the results are accepted as with the conditional claim alone.
 */
@ServerTest
class SkipLockedDispatchTest extends BackendServerTest {
    private static final int JOBS = 6;
    private static final int NODES = 12;
    private final Api api;
    private final java.net.URI uri;

    SkipLockedDispatchTest(Http1Client client, java.net.URI uri) {
        this.api = new Api(client);
        this.uri = uri;
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        // no bound on polls in flight (PollAdmissionTest has it): all NODES polls contend for the jobs at once, more
        // than PostgreSQL's default pool admits
        start(routing, Map.of("earnidle.leases.dispatch", "skip-locked", "earnidle.trust.sample-rate", "0",
                "earnidle.leases.max-polls-in-flight", "0"), Clock.systemUTC());
    }

    @Test
    void concurrentPollsLeaseEachJobOnceAndTheResultsAreAccepted() throws Exception {
        Set<String> submitted = new HashSet<>();
        for (int i = 0; i < JOBS; i++) {
            submitted.add(api.submit("skip locked " + i, 4).path("id").asText());
        }
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < NODES; i++) {
            tokens.add(api.register());
        }
        List<JsonNode> leases = new ArrayList<>();
        List<String> holders = new ArrayList<>();
        try (ExecutorService ex = Executors.newFixedThreadPool(NODES)) {
            List<Future<Resp>> polls = new ArrayList<>();
            for (String t : tokens) {
                // each poll on a client of its own (TestSupport.ownClient)
                polls.add(ex.submit(() -> new Api(TestSupport.ownClient(uri)).get("/api/inference/job", t)));
            }
            for (int i = 0; i < NODES; i++) {
                Resp r = polls.get(i).get();
                assertTrue(r.status() == 200 || r.status() == 204, r.text());
                if (r.status() == 200) {
                    leases.add(r.json());
                    holders.add(tokens.get(i));
                }
            }
        }
        // a poll that found every remaining job locked by other polls got 204; those jobs go to the next polls
        for (String t : tokens) {
            Resp r = api.get("/api/inference/job", t);
            if (r.status() == 200) {
                leases.add(r.json());
                holders.add(t);
            }
        }
        Set<String> leased = new HashSet<>();
        for (JsonNode l : leases) {
            assertTrue(leased.add(l.path("job_id").asText()), "leased twice: " + l.path("job_id").asText());
        }
        assertEquals(submitted, leased);
        for (int i = 0; i < leases.size(); i++) {
            Resp r = api.result(holders.get(i), Api.resultBody(leases.get(i), "test-engine"),
                    UUID.randomUUID().toString());
            assertEquals(200, r.status(), r.text());
            assertEquals("accepted", r.json().path("status").asText());
        }
    }

    @Test
    void anUnknownDispatchIsRefused() {
        Config c = Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                .sources(ConfigSources.create(Map.of("dispatch", "optimistic"))).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LeaseSettings.from(c));
        assertTrue(e.getMessage().contains("dispatch must be conditional-update or skip-locked"), e.getMessage());
    }
}
