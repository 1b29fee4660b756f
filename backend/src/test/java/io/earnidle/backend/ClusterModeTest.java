package io.earnidle.backend;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.cluster.ClusterSettings;
import io.earnidle.backend.cluster.Leadership;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.verification.ResultVerifier;
import io.earnidle.backend.verification.TrustSettings;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.loop.JobSpec;
import io.earnidle.testsupport.PostgresCluster;
import io.helidon.config.Config;
import io.helidon.dbclient.DbRow;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cluster mode (docs/operations.md "Cluster mode"), on the test run's {@link PostgresCluster} (the class runs in the
 * backend's PostgreSQL surefire run). Two backend
 * instances on one PostgreSQL database; every background job ({@link Leadership#ROLES}) runs on exactly one of them,
 * moves at once when its leader stops cleanly, and moves one leader lease after a leader stops renewing (a crash:
 * shown with a virtual clock, so no test waits for wall time).
 */
class ClusterModeTest {
    /** The verifier workers' re-check interval (VerificationQueue.RECHECK_MS, one second). */
    private static final long RECHECK_NANOS = 1_000_000_000L;

    @Test
    void eachBackgroundJobRunsOnOneInstanceAndMovesWhenTheLeaderStops() throws Exception {
        Path dir = TestSupport.tempDir();
        try {
            // both instances share the database and the data directory (models, receipt keys), as a cluster would
            EarnIdleServer a = EarnIdleServer.start(config(dir, "instance-a"));
            EarnIdleServer b = null;
            try {
                b = EarnIdleServer.start(config(dir, "instance-b"));
                Leadership la = a.backend().leadership();
                Leadership lb = b.backend().leadership();
                assertTrue(la.clustered() && lb.clustered());
                // the first instance took every job at its start; the second takes none while the first renews
                assertEquals(Leadership.ROLES.size(), la.renewOnce());
                assertEquals(0, lb.renewOnce());
                for (String role : Leadership.ROLES) {
                    assertTrue(la.holds(role), role + " runs on instance-a");
                    assertFalse(lb.holds(role), role + " does not run on instance-b");
                }
                assertEquals(holders(a.backend().database()), expectAll("instance-a"));

                a.close(); // a clean stop hands every job back at once
                a = null;
                assertEquals(Leadership.ROLES.size(), lb.renewOnce(), "instance-b takes every job on its next renewal");
                for (String role : Leadership.ROLES) {
                    assertTrue(lb.holds(role), role + " moved to instance-b");
                }
                assertEquals(holders(b.backend().database()), expectAll("instance-b"));
            } finally {
                if (b != null) {
                    b.close();
                }
                if (a != null) {
                    a.close();
                }
            }
        } finally {
            TestSupport.deleteTree(dir);
        }
    }

    @Test
    void aLeaderThatStopsRenewingLosesItsJobsOneLeaseLater() throws Exception {
        Path dir = TestSupport.tempDir();
        try (EarnIdleServer server = EarnIdleServer.start(TestSupport.config(dir, postgres(dir, Map.of())))) {
            // cluster mode is off here: the server runs every job itself and touches no leader row
            Leadership alone = server.backend().leadership();
            assertFalse(alone.clustered());
            Leadership.ROLES.forEach(role -> assertTrue(alone.holds(role)));
            Database db = server.backend().database();
            String url = PostgresCluster.shared().databaseFor(dir);
            Duration lease = Duration.ofSeconds(15);
            AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
            Clock clock = new Clock() {
                @Override
                public ZoneOffset getZone() {
                    return ZoneOffset.UTC;
                }

                @Override
                public Clock withZone(java.time.ZoneId zone) {
                    return this;
                }

                @Override
                public Instant instant() {
                    return now.get();
                }
            };
            Leadership x = Leadership.create(new ClusterSettings(true, "x", lease, lease.dividedBy(3)), url, db, clock);
            Leadership y = Leadership.create(new ClusterSettings(true, "y", lease, lease.dividedBy(3)), url, db, clock);
            assertEquals(Leadership.ROLES.size(), x.renewOnce());
            assertEquals(0, y.renewOnce());

            // x renews on time for a while: y never gets a job
            for (int i = 0; i < 5; i++) {
                now.set(now.get().plus(lease.dividedBy(3)));
                assertEquals(Leadership.ROLES.size(), x.renewOnce());
                assertEquals(0, y.renewOnce());
            }
            // x crashes (stops renewing): until its lease runs out, nobody else runs its jobs
            now.set(now.get().plus(lease).minusMillis(1));
            assertEquals(0, y.renewOnce(), "no job moves before the leader's lease ran out");
            Leadership.ROLES.forEach(role -> assertTrue(x.holds(role)));
            now.set(now.get().plusMillis(1));
            // at the expiry the old leader no longer runs anything by its own view, and y takes every job
            Leadership.ROLES.forEach(role -> assertFalse(x.holds(role), role + " no longer runs on the stalled x"));
            assertEquals(Leadership.ROLES.size(), y.renewOnce());
            assertEquals(holders(db), expectAll("y"));
            // x comes back: it gets nothing while y renews
            assertEquals(0, x.renewOnce());
            Leadership.ROLES.forEach(role -> assertFalse(x.holds(role)));
        } finally {
            TestSupport.deleteTree(dir);
        }
    }

    @Test
    void clusterModeIsRefusedOnTheEmbeddedStore() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Leadership.create(new ClusterSettings(true, "h2", Duration.ofSeconds(15), Duration.ofSeconds(5)),
                        "jdbc:h2:file:/tmp/earnidle", null, Clock.systemUTC()));
        assertTrue(e.getMessage().contains("PostgreSQL"), e.getMessage());
    }

    @Test
    void resultsAreVerifiedOnlyByTheVerificationLeaderAndAfterItStopsByTheNext() throws Exception {
        Path dir = TestSupport.tempDir();
        // instance-a leads verification but runs no verifier thread; instance-b has one, held back while it does not
        // lead: a result accepted by instance-b waits, and is verified by instance-b once instance-a stopped
        Map<String, String> verify = Map.of("earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.sample-rate", "1.0");
        EarnIdleServer a = EarnIdleServer.start(config(dir, "instance-a", with(verify, "0")));
        EarnIdleServer b = null;
        try {
            b = EarnIdleServer.start(config(dir, "instance-b", with(verify, "1")));
            assertTrue(a.backend().leadership().holds(Leadership.VERIFICATION));
            assertFalse(b.backend().leadership().holds(Leadership.VERIFICATION));
            TestSupport.Api api = new TestSupport.Api(TestSupport.ownClient("http://127.0.0.1:" + b.port()));
            String token = api.register();
            String jobId = api.submit("the quick brown fox", 8).path("id").asText();
            JsonNode lease = api.lease(token, jobId);
            LlamaModel model = LlamaModel.load(ByteBuffer.wrap(api.get(lease.path("model").path("url").asText(), null)
                    .bytes()));
            GenerationRequest request = JobSpec.parse(lease.toString()).toRequest();
            GenerationResult gen = model.generate(request);
            long t0 = System.nanoTime(); // what one verification costs here: the worker gets many times that
            assertTrue(ResultVerifier.verify(model, request, gen.tokenIds(), gen.text(),
                    TrustSettings.DEFAULT_MARGINS.get("f32")).passed());
            long budgetNanos = RECHECK_NANOS + 100 * (System.nanoTime() - t0);
            assertEquals(jobId, lease.path("job_id").asText());
            TestSupport.Resp r = api.result(token, TestSupport.Api.honestResultBody(lease, gen),
                    UUID.randomUUID().toString());
            assertEquals(200, r.status(), r.text());
            // instance-b's worker was woken by the result and re-checks once a second: two rounds pass unverified
            Thread.sleep(2 * RECHECK_NANOS / 1_000_000);
            assertEquals("verifying", job(api, jobId).path("status").asText(), "not verified off the leader");

            a.close();
            a = null;
            assertEquals(Leadership.ROLES.size(), b.backend().leadership().renewOnce());
            long deadline = System.nanoTime() + budgetNanos;
            JsonNode job = job(api, jobId);
            while ("verifying".equals(job.path("status").asText()) && System.nanoTime() < deadline) {
                Thread.sleep(10);
                job = job(api, jobId);
            }
            assertEquals("completed", job.path("status").asText(), job.toString());
            assertEquals("passed", job.path("verification").asText());
            TestSupport.assertLedgerConsistent(b.backend().database());
        } finally {
            if (b != null) {
                b.close();
            }
            if (a != null) {
                a.close();
            }
            TestSupport.deleteTree(dir);
        }
    }

    private static JsonNode job(TestSupport.Api api, String jobId) {
        return api.get("/api/jobs/" + jobId, TestSupport.CUSTOMER_KEY).json();
    }

    private static Map<String, String> with(Map<String, String> base, String verifierThreads) {
        Map<String, String> m = new HashMap<>(base);
        m.put("earnidle.trust.verifier-threads", verifierThreads);
        return m;
    }

    private static Config config(Path dir, String instanceId) {
        return config(dir, instanceId, Map.of());
    }

    /** An instance of the cluster on the test run's PostgreSQL (shared by ClusterRateLimitTest). */
    static Config config(Path dir, String instanceId, Map<String, String> extra) {
        Map<String, String> m = new HashMap<>(extra);
        m.put("earnidle.cluster.enabled", "true");
        m.put("earnidle.cluster.instance-id", instanceId);
        return TestSupport.config(dir, postgres(dir, m));
    }

    /** A server on the test run's PostgreSQL whichever surefire run this is (the database belongs to {@code dir}). */
    private static Map<String, String> postgres(Path dir, Map<String, String> extra) {
        Map<String, String> m = new HashMap<>(extra);
        m.putAll(Map.of("server.port", "0", "server.host", "127.0.0.1",
                "db.connection.url", PostgresCluster.shared().databaseFor(dir),
                "db.connection.username", PostgresCluster.USER));
        return m;
    }

    private static Map<String, String> holders(Database db) {
        Map<String, String> m = new HashMap<>();
        for (DbRow r : db.execute().query("SELECT role, holder FROM cluster_leaders").toList()) {
            m.put(Database.str(r, "role"), Database.str(r, "holder"));
        }
        return m;
    }

    private static Map<String, String> expectAll(String holder) {
        Map<String, String> m = new HashMap<>();
        Leadership.ROLES.forEach(role -> m.put(role, holder));
        return m;
    }
}
