package io.earnidle.backend.http;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Optional;
import java.util.Set;

/**
 * Whether a failure is the store being too busy to serve the request now, so that the same request may succeed when
 * sent again and nothing it wrote is kept:
 * <ul>
 * <li>a {@linkplain Wait#LOCK lock wait} lost: the store refused to wait any longer for a lock another transaction
 * holds, or broke a deadlock, and rolled the transaction back. H2 reports a lock timeout as error 50200 (SQLState
 * HYT00) and a deadlock as 40001; PostgreSQL as 55P03 (lock_not_available), 40P01 (deadlock_detected) or 40001
 * (serialization_failure);</li>
 * <li>a {@linkplain Wait#CONNECTION connection wait} lost: every connection of the pool was in use for the pool's
 * {@code connectionTimeout}, so the request's statement never ran (Hikari's {@link SQLTransientConnectionException},
 * whichever route and service asked for the connection).</li>
 * </ul>
 * {@link ProblemHandler} answers both as a problem+json 503 {@code busy}, {@code openai/OpenAiError} as OpenAI's 503
 * {@code server_busy}, each with {@code Retry-After}.
 */
public final class LockContention {
    private static final int H2_LOCK_TIMEOUT = 50200;
    private static final Set<String> STATES = Set.of("40001", "40P01", "55P03");

    /** What the request waited for too long. */
    public enum Wait {
        LOCK("the request waited too long for data another request was changing"),
        CONNECTION("the request waited too long for a free database connection");

        private final String description;

        Wait(String description) {
            this.description = description;
        }

        /** The wait in words, for a client: "the request waited too long for ...". */
        public String description() {
            return description;
        }
    }

    private LockContention() {
    }

    /** True when {@code failure}, or one of its causes, is a lost lock wait or a lost connection wait. */
    public static boolean causedBy(Throwable failure) {
        return waitOf(failure).isPresent();
    }

    /** The wait that {@code failure}, or one of its causes, lost; empty when it is any other failure. */
    public static Optional<Wait> waitOf(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException) {
                return Optional.of(Wait.CONNECTION);
            }
            if (t instanceof SQLException sql
                    && (sql.getErrorCode() == H2_LOCK_TIMEOUT || STATES.contains(sql.getSQLState()))) {
                return Optional.of(Wait.LOCK);
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return Optional.empty();
    }
}
