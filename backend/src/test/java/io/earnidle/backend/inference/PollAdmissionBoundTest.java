package io.earnidle.backend.inference;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

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
        PollAdmission polls = new PollAdmission(1, 60_000);
        polls.enter("Bearer a"); // runs
        Thread waiting = Thread.ofPlatform().start(() -> polls.enter("Bearer b")); // waits for the running poll to end
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (polls.inFlight() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(2, polls.inFlight());
        Problem p = assertThrows(Problem.class, () -> polls.enter("Bearer c"));
        assertEquals(503, p.status());
        assertEquals("polls-in-flight", p.type());
        assertEquals(1, p.retryAfterSeconds());
        assertTrue(p.getMessage().contains("max-polls-in-flight"), p.getMessage());
        assertEquals(2, polls.inFlight(), "a refused poll takes no place");
        assertTrue(waiting.isAlive(), "the second poll waits while the first runs");
        polls.leave("a", false); // the running poll ends: the waiting one runs
        waiting.join(30_000);
        assertFalse(waiting.isAlive());
        assertEquals(1, polls.inFlight());
        polls.leave("b", false);
        assertEquals(0, polls.inFlight());
    }

    @Test
    void zeroIsNoBound() {
        PollAdmission polls = new PollAdmission(0, 60_000);
        String busy = polls.enter("Bearer busy");
        polls.leave(busy, true);
        for (int i = 0; i < 10_000; i++) {
            polls.enter(i % 2 == 0 ? "Bearer busy" : "Bearer " + i);
        }
        assertEquals(10_000, polls.inFlight());
        assertEquals(0, polls.busySessions(), "no bound: no place to share, so no session is kept in memory");
    }

    /**
     * A busy session (its last poll leased a job) takes only half of the waiting places: with 2 running and 2 waiting,
     * its second waiting poll is refused while another session's poll still gets the last place; once a poll of the
     * session leases nothing, it is no longer busy.
     */
    @Test
    void aBusySessionLeavesHalfOfTheWaitingPlacesToTheOthers() throws Exception {
        PollAdmission polls = new PollAdmission(2, 60_000);
        polls.leave(polls.enter("Bearer busy"), true); // leased a job: busy
        assertEquals(1, polls.busySessions());
        String r1 = polls.enter("Bearer r1");
        String r2 = polls.enter("Bearer r2"); // both places run
        List<Thread> waiting = new ArrayList<>();
        waiting.add(Thread.ofPlatform().start(() -> polls.leave(polls.enter("Bearer busy"), false)));
        awaitInFlight(polls, 3);
        Problem p = assertThrows(Problem.class, () -> polls.enter("Bearer busy"));
        assertEquals("polls-in-flight", p.type());
        assertEquals(3, polls.inFlight(), "a refused poll takes no place");
        waiting.add(Thread.ofPlatform().start(() -> polls.leave(polls.enter("Bearer new"), false)));
        awaitInFlight(polls, 4);
        assertThrows(Problem.class, () -> polls.enter("Bearer other"), "no place is left for anyone");
        polls.leave(r1, false);
        polls.leave(r2, false);
        for (Thread t : waiting) {
            t.join(30_000);
            assertFalse(t.isAlive());
        }
        assertEquals(0, polls.inFlight());
        assertEquals(0, polls.busySessions(), "its poll leased nothing: the session is no longer busy");
    }

    private static void awaitInFlight(PollAdmission polls, int n) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (polls.inFlight() < n && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(n, polls.inFlight());
    }

    /** A busy session that stops polling is forgotten after the given time, when the map is pruned. */
    @Test
    void busySessionsThatStopPollingAreForgotten() {
        AtomicLong clock = new AtomicLong();
        PollAdmission polls = new PollAdmission(2, 1_000, clock::get);
        for (int i = 0; i < 64; i++) {
            polls.leave(polls.enter("Bearer gone-" + i), true);
        }
        clock.addAndGet(1_000_000_001L); // a second and a nanosecond later
        polls.leave(polls.enter("Bearer last"), true); // the 65th: past the size that prunes
        assertEquals(1, polls.busySessions());
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
