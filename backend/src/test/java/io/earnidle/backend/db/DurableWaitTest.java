package io.earnidle.backend.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

import io.earnidle.backend.settings.Settings;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The embedded H2 store's answer waits for its file once per write, not once per answer (docs/operations.md
 * "Durability"): a transaction waits for a checkpoint when it commits, and the HTTP layer's wait before an answer
 * ({@link Database#awaitDurableIfWritten}) runs one only for a statement that may have written since, on this thread.
 * Nothing else runs on this store (no server, no background loops), so every checkpoint counted is one of these.
 */
class DurableWaitTest {
    private Path dir;
    private Database db;

    @BeforeEach
    void open() throws IOException {
        dir = Files.createTempDirectory("earnidle-durable");
        Config config = Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                .addSource(ConfigSources.create(Map.of("earnidle.data-dir", dir.toString())))
                .addSource(ConfigSources.classpath("application.yaml")).build();
        db = Database.open(config.get("db"), Settings.from(config.get("earnidle")));
        db.forgetWrites(); // the migration ran on this thread
    }

    @AfterEach
    void close() throws IOException {
        db.close();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void aReadAloneWaitsForNothing() {
        long before = db.checkpoints();
        Database.list(db.execute(), "rk-all");
        db.awaitDurableIfWritten();
        assertEquals(before, db.checkpoints());
    }

    @Test
    void aStatementOutsideATransactionWaitsOnce() {
        long before = db.checkpoints();
        db.execute().dml("UPDATE jobs SET status = status WHERE id = ?", "no-such-job");
        db.awaitDurableIfWritten();
        assertEquals(before + 1, db.checkpoints());
        db.awaitDurableIfWritten(); // nothing written since
        assertEquals(before + 1, db.checkpoints());
    }

    @Test
    void aTransactionWaitsWhenItCommitsAndItsAnswerDoesNotWaitAgain() {
        long before = db.checkpoints();
        db.inTransaction(tx -> tx.dml("UPDATE jobs SET status = status WHERE id = ?", "no-such-job"));
        assertEquals(before + 1, db.checkpoints());
        db.awaitDurableIfWritten();
        assertEquals(before + 1, db.checkpoints());
    }

    @Test
    void aStatementAfterATransactionIsWaitedFor() {
        db.inTransaction(tx -> tx.dml("UPDATE jobs SET status = status WHERE id = ?", "no-such-job"));
        long before = db.checkpoints();
        db.execute().dml("UPDATE jobs SET status = status WHERE id = ?", "no-such-job");
        db.awaitDurableIfWritten();
        assertEquals(before + 1, db.checkpoints());
    }

    @Test
    void anotherThreadsWriteIsNotThisThreadsToWaitFor() throws InterruptedException {
        Thread writer = Thread.ofVirtual().start(
                () -> db.execute().dml("UPDATE jobs SET status = status WHERE id = ?", "no-such-job"));
        writer.join();
        long before = db.checkpoints();
        db.awaitDurableIfWritten();
        assertEquals(before, db.checkpoints());
    }

    @Test
    void aRequestStartsWithNoWrites() {
        db.execute().dml("UPDATE jobs SET status = status WHERE id = ?", "no-such-job");
        db.forgetWrites(); // the thread's previous request wrote (a GET's side effect), this one has not
        long before = db.checkpoints();
        db.awaitDurableIfWritten();
        assertEquals(before, db.checkpoints());
    }
}
