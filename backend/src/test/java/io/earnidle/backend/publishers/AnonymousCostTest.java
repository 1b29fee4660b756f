package io.earnidle.backend.publishers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.earnidle.backend.EarnIdleServer;
import io.earnidle.backend.auth.HashingGate;
import io.earnidle.backend.http.Problem;
import io.earnidle.testsupport.PostgresCluster;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Anonymous requests with a cost and per-client limits behind a reverse proxy (issue 23, docs/security.md): a
 * sign-up flood from one address is refused before any hash; behind a trusted proxy the forwarded client is the
 * one limited (50 failures from one attacker no longer lock every publisher out), and a forwarded address from a
 * peer that is not a trusted proxy is ignored; password hashing runs under a bound and refuses the excess at once.
 */
class AnonymousCostTest {
    private static final String PASSWORD = "correct horse battery";

    private static EarnIdleServer start(Path dir, Map<String, String> extra) {
        Map<String, String> m = new HashMap<>(Map.of(
                "server.host", "127.0.0.1",
                "server.port", "0",
                "earnidle.data-dir", dir.toString(),
                "earnidle.publishers.signup.max-per-client", "3",
                "earnidle.publishers.login.max-client-failures", "5"));
        m.putAll(extra);
        return EarnIdleServer.start(Config.builder().disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                .sources(ConfigSources.create(PostgresCluster.storeConfig(dir)), ConfigSources.create(m)).build());
    }

    private static PortalClient client(EarnIdleServer s, String forwardedFor) {
        PortalClient c = new PortalClient("http://127.0.0.1:" + s.port());
        c.forwardedFor = forwardedFor;
        return c;
    }

    private static PortalClient.Resp signUp(PortalClient c, String email) {
        return c.post("/api/publisher/signup", "{\"email\":\"" + email + "\",\"password\":\"" + PASSWORD + "\"}");
    }

    private static void delete(Path dir) throws Exception {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void behindATrustedProxyTheForwardedClientIsLimitedNotEveryone() throws Exception {
        Path dir = Files.createTempDirectory("earnidle-anon-test");
        try (EarnIdleServer s = start(dir, Map.of("earnidle.trusted-proxies.0", "127.0.0.0/8"))) {
            // a sign-up flood from one client: the fourth is refused before it is hashed or stored
            PortalClient attacker = client(s, "203.0.113.9, 127.0.0.1");
            for (int i = 0; i < 3; i++) {
                signUp(attacker, "flood" + i + "@example.com").ok(201);
            }
            PortalClient.Resp refused = signUp(attacker, "flood3@example.com");
            refused.problem(429, "rate-limited");
            assertNotNull(refused.header("Retry-After"));
            // the refused address was never stored: another client can take it
            signUp(client(s, "198.51.100.20"), "flood3@example.com").ok(201);

            // failed sign-ins from one forwarded client lock that client out, not the proxy
            signUp(client(s, "198.51.100.21"), "victim@example.com").ok(201);
            PortalClient guesser = client(s, "203.0.113.10");
            for (int i = 0; i < 5; i++) {
                guesser.post("/api/publisher/signin", "{\"email\":\"guess" + i
                        + "@example.com\",\"password\":\"wrong password!\"}").problem(401, "unauthorized");
            }
            guesser.post("/api/publisher/signin", "{\"email\":\"victim@example.com\",\"password\":\"" + PASSWORD
                    + "\"}").problem(429, "rate-limited");
            client(s, "198.51.100.22").signIn("victim@example.com", PASSWORD);
        } finally {
            delete(dir);
        }
    }

    @Test
    void forwardedForFromAnUntrustedPeerIsIgnored() throws Exception {
        Path dir = Files.createTempDirectory("earnidle-anon-test");
        try (EarnIdleServer s = start(dir, Map.of())) {
            for (int i = 0; i < 3; i++) {
                signUp(client(s, "192.0.2." + i), "spoof" + i + "@example.com").ok(201);
            }
            // a new forged X-Forwarded-For each time does not make a new client
            signUp(client(s, "192.0.2.99"), "spoof3@example.com").problem(429, "rate-limited");
        } finally {
            delete(dir);
        }
    }

    @Test
    void passwordHashingIsBoundedAndTheExcessIsRefusedAtOnce() throws Exception {
        HashingGate gate = new HashingGate(1, 1);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> gate.run(() -> {
            running.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "first";
        }), threads);
        assertTrue(running.await(30, TimeUnit.SECONDS));
        CompletableFuture<String> second = CompletableFuture.supplyAsync(() -> gate.run(() -> "second"), threads);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (gate.admitted() < 2 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(2, gate.admitted(), "the second is admitted and queued");
        assertTrue(!second.isDone(), "the second waits for the running one");
        Problem busy = assertThrows(Problem.class, () -> gate.run(() -> "third"));
        assertEquals(503, busy.status());
        assertEquals(1, busy.retryAfterSeconds());
        release.countDown();
        assertEquals("first", first.get(30, TimeUnit.SECONDS));
        assertEquals("second", second.get(30, TimeUnit.SECONDS));
        assertEquals(0, gate.admitted());
        assertEquals("fourth", gate.run(() -> "fourth"), "capacity comes back");
        threads.shutdown();
    }
}
