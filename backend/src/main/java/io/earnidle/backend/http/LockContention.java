package io.earnidle.backend.http;

import java.sql.SQLException;
import java.util.Set;

/**
 * Whether a failure is the store refusing to wait any longer for a lock another transaction holds (or breaking a
 * deadlock): the transaction was rolled back, nothing it wrote is kept, and the same request may succeed when sent
 * again. H2 reports a lock timeout as error 50200 (SQLState HYT00) and a deadlock as 40001; PostgreSQL as 55P03
 * (lock_not_available), 40P01 (deadlock_detected) or 40001 (serialization_failure).
 */
public final class LockContention {
    private static final int H2_LOCK_TIMEOUT = 50200;
    private static final Set<String> STATES = Set.of("40001", "40P01", "55P03");

    private LockContention() {
    }

    /** True when {@code failure}, or one of its causes, is a lock timeout, a deadlock or a serialization failure. */
    public static boolean causedBy(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql
                    && (sql.getErrorCode() == H2_LOCK_TIMEOUT || STATES.contains(sql.getSQLState()))) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }
}
