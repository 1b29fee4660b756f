package io.earnidle.backend.db;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedded H2 store's connection pool is sized from the cores (docs/operations.md "Database connections"), not
 * Hikari's default of 10: more transactions than 10 are open at once without one waiting for a connection.
 */
class EmbeddedPoolSizeTest {

    @Test
    void poolSizeComesFromTheStore() {
        int cores = Runtime.getRuntime().availableProcessors();
        assertEquals(Optional.of(16 * cores), Database.embeddedPoolSize("jdbc:h2:file:/tmp/x;DATABASE_TO_LOWER=TRUE"));
        assertEquals(Optional.of(16 * cores), Database.embeddedPoolSize("jdbc:h2:mem:x"));
        assertEquals(Optional.empty(), Database.embeddedPoolSize("jdbc:h2:tcp://localhost/x"));
        assertEquals(Optional.empty(), Database.embeddedPoolSize("jdbc:postgresql://localhost/earnidle"));
    }

    /**
     * Hikari's default pool (10) would hold the 11th transaction until its 30 s connection timeout and then fail it
     * (which breaks the barrier and fails the test); with the embedded default all of them meet at the barrier.
     */
    @Test
    void moreTransactionsThanHikarisDefaultRunAtOnce() throws Exception {
        int open = 11;
        assertTrue(Database.embeddedPoolSize("jdbc:h2:file:x").orElseThrow() >= open);
        try (TempStore store = TempStore.open("earnidle-pool")) {
            Database db = store.db();
            assertEquals(Database.embeddedPoolSize("jdbc:h2:file:x").orElseThrow(), db.poolSize());
            CyclicBarrier together = new CyclicBarrier(open);
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = new ArrayList<>();
            for (int i = 0; i < open; i++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        db.inTransaction(tx -> {
                            Database.list(tx, "rk-all"); // the transaction holds a connection from here
                            try {
                                together.await();
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                            return null;
                        });
                    } catch (RuntimeException e) {
                        synchronized (failures) {
                            failures.add(e);
                        }
                        together.reset();
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertEquals(List.of(), failures);
        }
    }
}
