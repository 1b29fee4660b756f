package io.earnidle.backend.crash;

import java.math.BigInteger;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.earnidle.backend.PayoutChainFixture;
import io.earnidle.testsupport.PostgresCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 23 "Crash": backend instances as separate processes ({@link BackendProcess}, as {@code ./earnidle serve
 * --config} runs them) under load from this JVM ({@link CrashLoad}), paying out on a local chain (ganache), are
 * killed with {@code kill -9} mid-load and restarted: the H2 instance, then each instance of a PostgreSQL pair in
 * cluster mode in turn. Afterwards the store and the chain are read ({@link CrashCounts}), printed and checked.
 * Every wait is on observable state (accepted results, job and payout statuses); the limits only stop a hang.
 */
class CrashRecoveryIT {
    /** Accepted results the load must add before each kill and after the last restart: load is really flowing. */
    private static final int PROGRESS = 25;
    /** The poll interval the instances suggest to nodes; the simulated parties poll at it. */
    private static final long POLL_MS = 50;
    /** Shortest lease: a lease granted to a node that never heard of it (the instance died) is re-queued after it. */
    private static final long LEASE_MIN_SECONDS = 3;
    /** Hang guard for one wait on progress or the drain (never reached when the system works). */
    private static final Duration HANG_LIMIT = Duration.ofMinutes(4);

    private static PayoutChainFixture fixture;
    private static BigInteger treasuryStart;
    private static Path work;

    @BeforeAll
    static void startChain() throws Exception {
        work = Files.createTempDirectory("earnidle-crash");
        fixture = PayoutChainFixture.start();
    }

    @AfterAll
    static void stopChain() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
        BackendProcess.deleteTree(work);
    }

    @Test
    void killNineTheH2Instance() throws Exception {
        Path data = Files.createDirectory(work.resolve("h2"));
        try (BackendProcess only = new BackendProcess("h2", work, settings(data, Map.of()))) {
            only.start();
            CrashCounts counts = crashAndRecover("H2, one instance", List.of(only), List.of(only),
                    "jdbc:h2:file:" + data.resolve("earnidle") + ";DATABASE_TO_LOWER=TRUE;WRITE_DELAY=0", "sa");
            check(counts);
        }
    }

    @Test
    void killNineEachOfAPostgresPairInTurn() throws Exception {
        Path data = Files.createDirectory(work.resolve("pg"));
        String url = PostgresCluster.shared().databaseFor(data);
        Map<String, String> store = Map.of("db.connection.url", url, "db.connection.username", PostgresCluster.USER,
                "earnidle.cluster.enabled", "true", "earnidle.cluster.leader-lease-ms", "3000",
                "earnidle.cluster.renew-interval-ms", "1000");
        Map<String, String> a = new HashMap<>(store);
        a.put("earnidle.cluster.instance-id", "crash-a");
        Map<String, String> b = new HashMap<>(store);
        b.put("earnidle.cluster.instance-id", "crash-b");
        try (BackendProcess first = new BackendProcess("pg-a", work, settings(data, a));
             BackendProcess second = new BackendProcess("pg-b", work, settings(data, b))) {
            first.start();
            second.start();
            CrashCounts counts = crashAndRecover("PostgreSQL, two instances in cluster mode",
                    List.of(first, second), List.of(first, second), url, PostgresCluster.USER);
            check(counts);
        }
    }

    /**
     * Each instance's settings: the demo customer, cheap jobs paid at once, payouts on the local chain (the payout
     * tests' {@link PayoutChainFixture#settings}, with the sender polling often).
     */
    private static Map<String, String> settings(Path data, Map<String, String> extra) {
        Map<String, String> m = fixture.settings(data);
        m.put("earnidle.poll-interval-ms", String.valueOf(POLL_MS));
        m.put("earnidle.rates.per-job-micro-usdc", "10000");
        m.put("earnidle.rates.input-per-token-micro-usdc", "0");
        m.put("earnidle.rates.per-token-micro-usdc", "0");
        m.put("earnidle.limits.per-key.requests-per-minute", "0");
        m.put("earnidle.leases.registration.max-per-window", "100000");
        m.put("earnidle.leases.min-seconds", String.valueOf(LEASE_MIN_SECONDS));
        m.put("earnidle.leases.overhead-seconds", "1");
        m.put("earnidle.leases.watchdog-interval-ms", "200");
        m.put("earnidle.payouts.min-withdrawal-micro-usdc", "1000");
        m.put("earnidle.payouts.poll-interval-ms", "100");
        m.putAll(extra);
        return m;
    }

    private static CrashCounts crashAndRecover(String scenario, List<BackendProcess> instances,
                                               List<BackendProcess> killOrder, String jdbcUrl, String user)
            throws Exception {
        treasuryStart = fixture.chain.chain().tokenBalance(fixture.token, fixture.treasury.getAddress());
        List<URI> bases = instances.stream().map(BackendProcess::base).toList();
        Set<String> jobs;
        Set<String> payouts;
        try (CrashLoad load = new CrashLoad(bases, "demo-customer-key", POLL_MS)) {
            load.start(3, 12, 6);
            for (BackendProcess victim : killOrder) {
                awaitProgress(load, victim.name + " before kill -9");
                victim.kill9();
                System.out.println("crash test [" + scenario + "]: kill -9 " + victim.name + " after "
                        + load.acceptedResults.get() + " accepted results, " + load.ackedPayouts.size()
                        + " payouts requested");
                victim.start();
            }
            awaitProgress(load, "after the last restart");
            load.stopSubmitting(HANG_LIMIT);
            drain(load);
            assertTrue(load.failures.isEmpty(), "the simulated parties saw no server error: " + load.failures);
            jobs = new HashSet<>(load.ackedJobs.keySet());
            payouts = new HashSet<>(load.ackedPayouts.keySet());
            System.out.println("crash test [" + scenario + "]: result answers " + load.resultStatuses
                    + ", submissions with unknown outcome " + load.submitOutcomeUnknown + ", withdrawals with unknown"
                    + " outcome " + load.withdrawOutcomeUnknown + ", wire errors " + load.wireErrors
                    + ", sent again after a 503 with Retry-After " + CrashHttp.BUSY_RETRIES.getAndSet(0));
        }
        for (BackendProcess p : instances) {
            p.stop();
        }
        CrashCounts counts = CrashCounts.read(jdbcUrl, user, jobs, payouts, fixture.chain.chain(),
                fixture.token, fixture.treasury.getAddress(), treasuryStart);
        System.out.println(counts.report(scenario));
        return counts;
    }

    /** Waits until the load has {@link #PROGRESS} more accepted results and at least one more payout requested. */
    private static void awaitProgress(CrashLoad load, String what) throws InterruptedException {
        long results = load.acceptedResults.get() + PROGRESS;
        int payouts = load.ackedPayouts.size() + 1;
        long deadline = System.nanoTime() + HANG_LIMIT.toNanos();
        while (load.acceptedResults.get() < results || load.ackedPayouts.size() < payouts) {
            assertTrue(load.failures.isEmpty(), "server errors: " + load.failures);
            assertTrue(System.nanoTime() < deadline, what + ": no progress (" + load.acceptedResults + " results, "
                    + load.ackedPayouts.size() + " payouts)");
            Thread.sleep(POLL_MS);
        }
    }

    /** Waits until every acknowledged job is completed or failed and every acknowledged payout confirmed or failed. */
    private static void drain(CrashLoad load) throws Exception {
        List<String> jobs = new ArrayList<>(load.ackedJobs.keySet());
        List<CrashLoad.AckedPayout> payouts = new ArrayList<>(load.ackedPayouts.values());
        long deadline = System.nanoTime() + HANG_LIMIT.toNanos();
        while (true) {
            jobs.removeIf(id -> Set.of("completed", "failed").contains(unchecked(() -> load.jobStatus(id))));
            payouts.removeIf(p -> Set.of("confirmed", "failed").contains(unchecked(() -> load.payoutStatus(p))));
            if (jobs.isEmpty() && payouts.isEmpty()) {
                return;
            }
            assertTrue(load.failures.isEmpty(), "server errors: " + load.failures);
            assertTrue(System.nanoTime() < deadline, "not settled: jobs " + jobs + ", payouts " + payouts);
            fixture.chain.mine(); // confirmations: a block on top of the transfers already mined
            Thread.sleep(POLL_MS);
        }
    }

    private static void check(CrashCounts c) {
        assertEquals(0, c.ackedJobsMissing(), "no acknowledged job lost");
        long ended = c.jobsByStatus().getOrDefault("completed", 0L) + c.jobsByStatus().getOrDefault("failed", 0L)
                + c.jobsByStatus().getOrDefault("queued", 0L);
        assertEquals(c.jobsByStatus().values().stream().mapToLong(Long::longValue).sum(), ended,
                "every job completed, failed or queued again: " + c.jobsByStatus());
        assertEquals(0, c.completedWithoutResult());
        assertEquals(0, c.resultsOnUnfinishedJobs());
        assertEquals(0, c.jobsWithTwoResults(), "no job completed twice");
        assertEquals(c.acceptedResults(), c.resultsCreditedOnce(), "every accepted result credited exactly once");
        assertEquals(0, c.creditsWithoutResult());
        assertEquals(0, c.unbalancedTransactions());
        assertEquals(0, c.ledgerSum(), "the ledger sums to zero");
        assertEquals(0, c.accountsOffTheirEntries());
        assertEquals(0, c.ackedPayoutsMissing(), "no acknowledged payout lost");
        assertEquals(0, c.paidMoreThanRecorded(), "no payout sent twice (read on the chain)");
        assertEquals(0, c.paidLessThanRecorded(), "every confirmed payout is on the chain");
        assertEquals(c.confirmedTotal(), c.treasuryOut(), "the treasury sent exactly the confirmed payouts");
        assertTrue(c.acceptedResults() >= 2L * PROGRESS, "load ran: " + c.acceptedResults());
    }

    private interface Read<T> {
        T get() throws Exception;
    }

    private static <T> T unchecked(Read<T> read) {
        try {
            return read.get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
