package io.earnidle.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import io.earnidle.backend.billing.RateCounters;
import io.earnidle.backend.cluster.SharedRateCounters;

import org.junit.jupiter.api.Test;

/**
 * Rate limits in cluster mode hold across the instances (cluster/SharedRateCounters, V19): two backend instances on
 * one PostgreSQL database, requests alternating between them, allow each limit once, not twice.
 */
class ClusterRateLimitTest {
    private static final int LIMIT = 3;

    @Test
    void signUpsAndPerKeyRequestsAreCountedOnceAcrossTwoInstances() throws Exception {
        Path dir = TestSupport.tempDir();
        Map<String, String> limits = Map.of(
                "earnidle.publishers.signup.max-per-client", Integer.toString(LIMIT),
                "earnidle.limits.per-key.requests-per-minute", Integer.toString(LIMIT));
        try (EarnIdleServer a = EarnIdleServer.start(ClusterModeTest.config(dir, "instance-a", limits));
             EarnIdleServer b = EarnIdleServer.start(ClusterModeTest.config(dir, "instance-b", limits))) {
            List<TestSupport.Api> instances = List.of(api(a), api(b));

            // sign-ups from one client address (127.0.0.1), alternating instances: LIMIT succeed in all, then 429
            for (int i = 0; i < LIMIT; i++) {
                TestSupport.Resp r = instances.get(i % 2).post("/api/publisher/signup", null,
                        "{\"email\":\"cluster" + i + "@example.com\",\"password\":\"correct horse battery\"}");
                assertEquals(201, r.status(), r.text());
            }
            for (TestSupport.Api instance : instances) {
                TestSupport.Resp refused = instance.post("/api/publisher/signup", null,
                        "{\"email\":\"over@example.com\",\"password\":\"correct horse battery\"}");
                assertEquals(429, refused.status(), refused.text());
                assertTrue(refused.text().contains("rate-limited"), refused.text());
            }
            assertEquals(LIMIT, TestSupport.count(a.backend().database(),
                    "SELECT COUNT(*) AS n FROM publishers WHERE email LIKE 'cluster%'"));

            // one API key's requests, alternating instances: LIMIT answered in all, then 429 on either
            for (int i = 0; i < LIMIT; i++) {
                TestSupport.Resp r = instances.get(i % 2).get("/v1/models", TestSupport.CUSTOMER_KEY);
                assertEquals(200, r.status(), r.text());
            }
            for (TestSupport.Api instance : instances) {
                TestSupport.Resp refused = instance.get("/v1/models", TestSupport.CUSTOMER_KEY);
                assertEquals(429, refused.status(), refused.text());
                assertTrue(refused.text().contains("rate_limit"), refused.text());
            }
            System.out.println("cluster of 2: " + LIMIT + " sign-ups and " + LIMIT
                    + " requests per key allowed in all, the next refused on both instances");
        } finally {
            TestSupport.deleteTree(dir);
        }
    }

    @Test
    void concurrentAdmissionsOnTwoInstancesTakeExactlyTheLimit() throws Exception {
        Path dir = TestSupport.tempDir();
        try (EarnIdleServer a = EarnIdleServer.start(ClusterModeTest.config(dir, "instance-a", Map.of()));
             EarnIdleServer b = EarnIdleServer.start(ClusterModeTest.config(dir, "instance-b", Map.of()))) {
            List<RateCounters> counters = List.of(new SharedRateCounters(a.backend().database()),
                    new SharedRateCounters(b.backend().database()));
            Instant now = a.backend().ledger().now();
            int limit = 5;
            int tries = 24;
            AtomicInteger admitted = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < tries; i++) {
                    RateCounters c = counters.get(i % 2);
                    threads.submit(() -> {
                        go.await();
                        if (c.admit("key-1", List.of(new RateCounters.Count("test", Duration.ofMinutes(1), 1, limit)),
                                now).isEmpty()) {
                            admitted.incrementAndGet();
                        }
                        return null;
                    });
                }
                go.countDown();
            }
            assertEquals(limit, admitted.get(), tries + " at once on two instances, the limit taken exactly");
            // the next waits until the slot of the admitted ones leaves the minute
            RateCounters.Refusal refusal = counters.get(0).admit("key-1",
                    List.of(new RateCounters.Count("test", Duration.ofMinutes(1), 1, limit)), now).orElseThrow();
            assertTrue(refusal.waitSeconds() >= 60 && refusal.waitSeconds() <= 61, refusal.toString());
        } finally {
            TestSupport.deleteTree(dir);
        }
    }

    private static TestSupport.Api api(EarnIdleServer s) {
        return new TestSupport.Api(TestSupport.ownClient("http://127.0.0.1:" + s.port()));
    }
}
