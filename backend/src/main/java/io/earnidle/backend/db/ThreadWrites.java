package io.earnidle.backend.db;

import io.helidon.dbclient.DbClientService;
import io.helidon.dbclient.DbClientServiceContext;

/**
 * Marks the thread that runs a statement which may write (anything but a query), in a transaction or outside one, so
 * that an answer waits for the store's file only when its request wrote since its last wait
 * ({@link Database#awaitDurableIfWritten}, docs/operations.md "Durability"). A request runs on one thread from its
 * first statement to its answer (Helidon SE), so a mark on that thread is a mark of the request.
 */
final class ThreadWrites implements DbClientService {
    private static final ThreadLocal<Boolean> WROTE = new ThreadLocal<>();

    @Override
    public DbClientServiceContext statement(DbClientServiceContext context) {
        switch (context.statementType()) {
            case QUERY, GET -> {
            }
            default -> WROTE.set(Boolean.TRUE);
        }
        return context;
    }

    /** Whether this thread ran a statement that may write since the last call; clears the mark. */
    static boolean take() {
        boolean wrote = WROTE.get() != null;
        WROTE.remove();
        return wrote;
    }
}
