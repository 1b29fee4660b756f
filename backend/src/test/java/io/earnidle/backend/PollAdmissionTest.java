package io.earnidle.backend;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.helidon.dbclient.DbRow;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.Resp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code earnidle.leases.max-polls-in-flight} (inference.PollAdmission, docs/operations.md "Polls in flight"), here
 * 1: while one poll runs, a second waits for it, and a third is answered 503 {@code polls-in-flight} with Retry-After
 * at once and changes nothing (not even its session's last_seen_at); once the first is answered, the second runs and
 * polls are served again. The first poll is held running by a transaction that holds its session's row, which the
 * poll's last_seen_at write waits for.
 */
@ServerTest
class PollAdmissionTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private final Api api;
    private final URI uri;

    PollAdmissionTest(Http1Client client, URI uri) {
        this.api = new Api(client);
        this.uri = uri;
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of("earnidle.leases.max-polls-in-flight", "1"), CLOCK);
    }

    private DbRow session(String token) {
        return Database.get(backend.database().execute(), "session-by-token", Ids.sha256Hex(token)).orElseThrow();
    }

    private static void awaitInFlight(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (backend.polls().inFlight() != n && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(n, backend.polls().inFlight());
    }

    @Test
    void aPollBeyondTheRunningAndWaitingOnesIsRefusedAtOnceAndChangesNothing() throws Exception {
        String held = api.register();
        String queued = api.register();
        String other = api.register();
        CLOCK.advance(Duration.ofSeconds(5)); // every session is due for its last_seen_at write
        String heldId = Database.str(session(held), "id");
        CountDownLatch locked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (ExecutorService ex = Executors.newFixedThreadPool(3)) {
            Future<?> lock = ex.submit(() -> backend.database().inTransaction(tx -> {
                // a write that changes the row (a no-op update may not lock it)
                tx.dml("UPDATE node_sessions SET last_seen_at = ? WHERE id = ?",
                        Database.ts(CLOCK.instant().minusSeconds(60)), heldId);
                locked.countDown();
                try {
                    assertTrue(release.await(60, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return null;
            }));
            assertTrue(locked.await(30, TimeUnit.SECONDS));
            Future<Resp> first = ex.submit(() -> new Api(TestSupport.ownClient(uri)).get("/api/inference/job", held));
            awaitInFlight(1); // running, and waiting for the session's row
            Future<Resp> second = ex.submit(() -> new Api(TestSupport.ownClient(uri)).get("/api/inference/job",
                    queued));
            awaitInFlight(2); // waiting for the first to end
            assertFalse(second.isDone());

            Resp refused = api.get("/api/inference/job", other);
            refused.problem(503, "polls-in-flight");
            assertEquals("1", refused.retryAfter());
            Object seen = Database.raw(session(other), "last_seen_at");
            CLOCK.advance(Duration.ofSeconds(5)); // a poll that ran would write last_seen_at now
            api.get("/api/inference/job", other).problem(503, "polls-in-flight");
            assertEquals(seen, Database.raw(session(other), "last_seen_at"), "a refused poll changes nothing");
            assertEquals(2, backend.polls().inFlight());

            release.countDown();
            lock.get(30, TimeUnit.SECONDS);
            assertEquals(204, first.get(30, TimeUnit.SECONDS).status(), "the running poll is answered");
            assertEquals(204, second.get(30, TimeUnit.SECONDS).status(), "then the waiting one");
        }
        awaitInFlight(0);
        assertEquals(204, api.get("/api/inference/job", other).status(), "polls are served again");
    }
}
