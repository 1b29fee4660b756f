package io.earnidle.backend.domains;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.db.TempStore;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.testsupport.PostgresCluster;
import io.helidon.dbclient.DbRow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TXTRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A periodic re-check of the first holder's domain that read the domain as verified before a second publisher's
 * fresh proof moved it, and whose DNS answer (with both publishers' TXT values) comes back only after that proof
 * committed: the stale answer is dropped. The re-check's DNS answer is held until the proof is done, so the
 * interleaving is the same on every run (no sleeps). And two publishers' fresh proofs of one name at once: the test
 * holds a row the first proof's transaction needs, so that transaction stops uncommitted while the second runs; only
 * one of the two ends verified. Runs on H2, and on PostgreSQL in the postgres-store execution.
 */
class DomainRecheckRaceTest {
    private static final String NAME = "contested.example.test";
    /** Only ends a hang: every wait of these tests is on a state the test brings about. */
    private static final Duration HANG_LIMIT = Duration.ofMinutes(1);

    private TempStore store;
    private Database db;
    private Ledger ledger;
    /** The TXT records the in-memory DNS serves, by record name. */
    private final Map<String, List<String>> zone = new ConcurrentHashMap<>();

    @BeforeEach
    void openDatabase() throws IOException {
        store = TempStore.open("earnidle-domain-race", dir -> {
            Map<String, String> m = new HashMap<>(PostgresCluster.storeConfig(dir));
            if (!PostgresCluster.active()) { // H2's short default lock timeout would end the lock waits the test holds
                m.put("db.connection.url", "jdbc:h2:file:" + dir.resolve("earnidle") + ";DATABASE_TO_LOWER=TRUE;"
                        + "WRITE_DELAY=0;LOCK_TIMEOUT=" + HANG_LIMIT.toMillis());
            }
            return m;
        });
        db = store.db();
        ledger = new Ledger(Clock.systemUTC(), Duration.ZERO);
    }

    @AfterEach
    void deleteDatabase() throws IOException {
        store.close();
    }

    @Test
    void aRecheckThatReadTheDomainBeforeAFreshProofDoesNotTakeItBack() {
        String domain1 = domainOf(publisher("pub_first"), "tok1first");
        db.inTransaction(tx -> tx.namedInsert("insert-placement", "plc_first", "pub_first", "First page", 2000,
                "active", "{}", Database.ts(ledger.now())));
        db.inTransaction(tx -> tx.dml("UPDATE placements SET domain = ? WHERE id = 'plc_first'", NAME));
        String record = DomainNames.recordName(NAME);
        zone.put(record, List.of(DomainNames.recordValue("tok1first")));
        DomainVerifier answering = new DomainVerifier(db, ledger, new TxtResolver(new ZoneResolver(null), "zone"));
        assertEquals("verified", answering.check(domain1).status());
        assertNull(suspendedReason());
        String domain2 = domainOf(publisher("pub_second"), "tok2second");
        // the first holder's record stays published next to the second's
        zone.put(record, List.of(DomainNames.recordValue("tok1first"), DomainNames.recordValue("tok2second")));

        CompletableFuture<Void> asked = new CompletableFuture<>();
        CompletableFuture<Void> answer = new CompletableFuture<>();
        DomainVerifier held = new DomainVerifier(db, ledger, new TxtResolver(new ZoneResolver(gate(asked, answer)),
                "zone"));
        CompletableFuture<DomainVerifier.Outcome> recheck = CompletableFuture.supplyAsync(() -> held.check(domain1));
        // the re-check has read the first holder's domain (verified) and waits for DNS
        CompletableFuture.anyOf(asked, recheck).join();
        assertEquals("verified", statusOf(domain1), "the re-check is waiting for its DNS answer");

        assertEquals("verified", answering.check(domain2).status(), "the second publisher's fresh proof");
        assertEquals("lost", statusOf(domain1));
        answer.complete(null);
        DomainVerifier.Outcome stale = recheck.join();

        assertEquals("lost", stale.status(), "the stale answer is dropped");
        assertTrue(stale.dropped(), "and reported as dropped");
        assertFalse(stale.verified(), "the TXT record was there, but the check verified nothing");
        assertEquals("lost", statusOf(domain1));
        assertEquals("verified", statusOf(domain2));
        assertNotNull(suspendedReason(), "the first holder's placement stays suspended");
        assertEquals(1, notices("pub_first").size(), notices("pub_first").toString());
        assertTrue(notices("pub_first").get(0).contains("Another publisher proved control of " + NAME));
        assertEquals(List.of(), notices("pub_second"));
    }

    @Test
    void aCheckOfALostDomainLeavesItLostWhileTheOldRecordIsStillPublished() {
        String domain1 = domainOf(publisher("pub_first"), "tok1first");
        String domain2 = domainOf(publisher("pub_second"), "tok2second");
        String record = DomainNames.recordName(NAME);
        zone.put(record, List.of(DomainNames.recordValue("tok1first")));
        DomainVerifier answering = new DomainVerifier(db, ledger, new TxtResolver(new ZoneResolver(null), "zone"));
        assertEquals("verified", answering.check(domain1).status());
        zone.put(record, List.of(DomainNames.recordValue("tok1first"), DomainNames.recordValue("tok2second")));
        assertEquals("verified", answering.check(domain2).status());

        // e.g. "Check now" by the first holder that read the domain as verified just before the proof moved it
        DomainVerifier.Outcome lost = answering.check(domain1);
        assertEquals("lost", lost.status());
        assertFalse(lost.verified(), "its old record is still published, but the domain is not verified for it");
        assertEquals("lost", statusOf(domain1));
        assertEquals("verified", statusOf(domain2));
        assertEquals(List.of(), notices("pub_second"));
    }

    @Test
    void twoFreshProofsOfOneDomainAtOnceLeaveOneVerified() throws Exception {
        String domain1 = domainOf(publisher("pub_first"), "tok1first");
        String domain2 = domainOf(publisher("pub_second"), "tok2second");
        // the first publisher's placement is suspended until its domain is verified: its check's transaction
        // updates the placement row after it has written its domain as verified
        db.inTransaction(tx -> tx.namedInsert("insert-placement", "plc_first", "pub_first", "First page", 2000,
                "active", "{}", Database.ts(ledger.now())));
        db.inTransaction(tx -> tx.dml("UPDATE placements SET domain = ?, suspended_reason = 'not verified yet' "
                + "WHERE id = 'plc_first'", NAME));
        zone.put(DomainNames.recordName(NAME),
                List.of(DomainNames.recordValue("tok1first"), DomainNames.recordValue("tok2second")));
        DomainVerifier answering = new DomainVerifier(db, ledger, new TxtResolver(new ZoneResolver(null), "zone"));

        // the test holds the placement row, so the first proof's transaction stops, uncommitted, just before its end
        CountDownLatch placementHeld = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // a thread each: the common pool may have a single thread on a small machine, and these three all wait
        ExecutorService threads = Executors.newFixedThreadPool(3);
        CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> db.inTransaction(tx -> {
            try (Stream<DbRow> rows = tx.query("SELECT id FROM placements WHERE id = ? FOR UPDATE", "plc_first")) {
                assertEquals(1, rows.count());
            }
            placementHeld.countDown();
            await(release);
            return null;
        }), threads);
        await(placementHeld);
        CompletableFuture<DomainVerifier.Outcome> first = CompletableFuture.supplyAsync(() -> answering.check(domain1),
                threads);
        awaitUntil(() -> blockedSessions() >= 1 || first.isDone());
        assertFalse(first.isDone(), "the first proof waits for the placement row");
        // the second proof runs now: it must not commit a verified domain while the first may still commit its own
        CompletableFuture<DomainVerifier.Outcome> second = CompletableFuture.supplyAsync(
                () -> answering.check(domain2), threads);
        awaitUntil(() -> blockedSessions() >= 2 || second.isDone());
        release.countDown();
        holder.get(1, TimeUnit.MINUTES);
        assertEquals("verified", first.get(1, TimeUnit.MINUTES).status());
        assertEquals("verified", second.get(1, TimeUnit.MINUTES).status(), "the later proof wins");
        threads.shutdown();

        assertEquals("lost", statusOf(domain1), "one of the two is verified, never both");
        assertEquals("verified", statusOf(domain2));
        assertNotNull(suspendedReason(), "the first publisher's placement is suspended again");
        assertEquals(1, notices("pub_first").size(), notices("pub_first").toString());
        assertEquals(List.of(), notices("pub_second"));
    }

    /** Sessions of the store waiting for a lock another session holds. */
    private long blockedSessions() {
        String sql = PostgresCluster.active()
                ? "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        + "AND datname = current_database()"
                : "SELECT COUNT(*) AS n FROM information_schema.sessions WHERE blocker_id IS NOT NULL";
        try (Stream<DbRow> rows = db.execute().query(sql)) {
            return Database.lng(rows.findFirst().orElseThrow(), "n");
        }
    }

    /** Waits until {@code condition} holds, checking every 10 ms; {@link #HANG_LIMIT} only ends a hang. */
    private static void awaitUntil(BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + HANG_LIMIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, "the awaited state never came");
            Thread.sleep(10);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(HANG_LIMIT.toMillis(), TimeUnit.MILLISECONDS), "the latch was never opened");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Counts {@code asked} down when the query arrives, then waits for {@code answer}. */
    private static Runnable gate(CompletableFuture<Void> asked, CompletableFuture<Void> answer) {
        return () -> {
            asked.complete(null);
            answer.join();
        };
    }

    private String publisher(String id) {
        db.inTransaction(tx -> tx.namedInsert("insert-publisher", id, id, Database.ts(ledger.now())));
        return id;
    }

    private String domainOf(String publisherId, String token) {
        String id = "dom_" + publisherId;
        db.inTransaction(tx -> tx.namedInsert("insert-domain", id, publisherId, NAME, NAME, token, false, "pending",
                Database.ts(ledger.now())));
        return id;
    }

    private String statusOf(String domainId) {
        return Database.str(Database.get(db.execute(), "domain-by-id", domainId).orElseThrow(), "status");
    }

    private String suspendedReason() {
        return Database.str(Database.get(db.execute(), "placement-full", "plc_first").orElseThrow(),
                "suspended_reason");
    }

    private List<String> notices(String publisherId) {
        List<String> out = new ArrayList<>();
        for (DbRow n : Database.list(db.execute(), "notices-of-publisher", publisherId)) {
            out.add(Database.str(n, "message"));
        }
        return out;
    }

    /** Answers TXT queries from {@link #zone}, after running {@code beforeAnswer} (when not null). */
    private final class ZoneResolver implements Resolver {
        private final Runnable beforeAnswer;

        ZoneResolver(Runnable beforeAnswer) {
            this.beforeAnswer = beforeAnswer;
        }

        @Override
        public Message send(Message query) {
            if (beforeAnswer != null) {
                beforeAnswer.run();
            }
            Record question = query.getQuestion();
            Message response = new Message(query.getHeader().getID());
            response.getHeader().setFlag(Flags.QR);
            response.addRecord(question, Section.QUESTION);
            for (String value : zone.getOrDefault(question.getName().toString(true), List.of())) {
                response.addRecord(new TXTRecord(question.getName(), DClass.IN, 300, value), Section.ANSWER);
            }
            return response;
        }

        @Override
        public CompletionStage<Message> sendAsync(Message query) {
            return CompletableFuture.completedFuture(send(query));
        }

        @Override
        public void setPort(int port) {
        }

        @Override
        public void setTCP(boolean flag) {
        }

        @Override
        public void setIgnoreTruncation(boolean flag) {
        }

        @Override
        public void setEDNS(int version, int payloadSize, int flags, List<EDNSOption> options) {
        }

        @Override
        public void setTSIGKey(TSIG key) {
        }

        @Override
        public void setTimeout(Duration timeout) {
        }
    }
}
