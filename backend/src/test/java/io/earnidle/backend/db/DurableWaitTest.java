package io.earnidle.backend.db;

import java.io.IOException;

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
    private TempStore store;
    private Database db;

    @BeforeEach
    void open() throws IOException {
        store = TempStore.open("earnidle-durable");
        db = store.db();
        db.forgetWrites(); // the migration ran on this thread
    }

    @AfterEach
    void close() throws IOException {
        store.close();
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
