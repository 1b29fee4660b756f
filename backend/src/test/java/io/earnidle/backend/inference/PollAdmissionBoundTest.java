package io.earnidle.backend.inference;

import java.util.Map;

import io.earnidle.backend.http.Problem;
import io.earnidle.backend.leases.LeaseSettings;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bound of {@link PollAdmission} and how {@code earnidle.leases.max-polls-in-flight} sets it. */
class PollAdmissionBoundTest {

    @Test
    void aPollWaitsForARunningOneAndOneBeyondThoseIsRefused() throws Exception {
        PollAdmission polls = new PollAdmission(1);
        polls.enter(); // runs
        Thread waiting = Thread.ofPlatform().start(polls::enter); // waits for the running poll to end
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (polls.inFlight() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(2, polls.inFlight());
        Problem p = assertThrows(Problem.class, polls::enter);
        assertEquals(503, p.status());
        assertEquals("polls-in-flight", p.type());
        assertEquals(1, p.retryAfterSeconds());
        assertTrue(p.getMessage().contains("max-polls-in-flight"), p.getMessage());
        assertEquals(2, polls.inFlight(), "a refused poll takes no place");
        assertTrue(waiting.isAlive(), "the second poll waits while the first runs");
        polls.leave(); // the running poll ends: the waiting one runs
        waiting.join(30_000);
        assertFalse(waiting.isAlive());
        assertEquals(1, polls.inFlight());
        polls.leave();
        assertEquals(0, polls.inFlight());
    }

    @Test
    void zeroIsNoBound() {
        PollAdmission polls = new PollAdmission(0);
        for (int i = 0; i < 10_000; i++) {
            polls.enter();
        }
        assertEquals(10_000, polls.inFlight());
    }

    private static LeaseSettings leases(Map<String, String> values) {
        return LeaseSettings.from(Config.builder().disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource().addSource(ConfigSources.create(values)).build());
    }

    @Test
    void theDefaultIsHalfTheConnectionPool() {
        LeaseSettings unset = leases(Map.of());
        assertEquals(16, unset.pollsInFlight(32));
        assertEquals(5, unset.pollsInFlight(10));
        assertEquals(1, unset.pollsInFlight(1), "at least one");
        assertEquals(16, leases(Map.of("max-polls-in-flight", "half-the-pool")).pollsInFlight(32));
        assertEquals(7, leases(Map.of("max-polls-in-flight", "7")).pollsInFlight(32));
        assertEquals(0, leases(Map.of("max-polls-in-flight", "0")).pollsInFlight(32));
        assertThrows(IllegalArgumentException.class, () -> leases(Map.of("max-polls-in-flight", "-1")));
        assertThrows(IllegalArgumentException.class, () -> leases(Map.of("max-polls-in-flight", "lots")));
    }
}
