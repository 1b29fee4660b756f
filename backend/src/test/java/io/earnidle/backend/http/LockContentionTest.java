package io.earnidle.backend.http;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

import io.helidon.dbclient.DbClientException;
import io.helidon.http.HeaderNames;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webclient.http1.Http1ClientResponse;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import io.helidon.webserver.testing.junit5.SetUpServer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A request that loses a lock wait in the store is answered 503 with {@code Retry-After}, never 500: its transaction
 * was rolled back and the same request may succeed when sent again. The failure is a real lock timeout of an H2
 * database, wrapped as the database client reports it.
 */
@ServerTest
public class LockContentionTest {
    private final Http1Client client;

    LockContentionTest(Http1Client client) {
        this.client = client;
    }

    @SetUpServer
    static void server(WebServerConfig.Builder server) {
        server.host("127.0.0.1");
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        routing.post("/locked", (req, res) -> {
            throw new DbClientException("Failed to execute statement", realLockTimeout());
        }).post("/broken", (req, res) -> {
            throw new IllegalStateException("a defect");
        }).error(Exception.class, new ProblemHandler());
    }

    /** What H2 throws when a second transaction asks for a row lock that a first one holds past LOCK_TIMEOUT. */
    public static SQLException realLockTimeout() {
        String url = "jdbc:h2:mem:lock-" + UUID.randomUUID() + ";LOCK_TIMEOUT=50;DB_CLOSE_DELAY=-1";
        try (Connection holder = DriverManager.getConnection(url, "sa", "");
             Connection waiter = DriverManager.getConnection(url, "sa", "")) {
            try (Statement s = holder.createStatement()) {
                s.execute("CREATE TABLE sessions (id VARCHAR(8) PRIMARY KEY, n INT)");
                s.execute("INSERT INTO sessions VALUES ('a', 0)");
            }
            holder.setAutoCommit(false);
            waiter.setAutoCommit(false);
            try (Statement s = holder.createStatement()) {
                s.execute("SELECT * FROM sessions WHERE id = 'a' FOR UPDATE");
            }
            try (Statement s = waiter.createStatement()) {
                return assertThrows(SQLException.class,
                        () -> s.execute("UPDATE sessions SET n = n + 1 WHERE id = 'a'"));
            } finally {
                holder.rollback();
                try (Statement s = holder.createStatement()) {
                    s.execute("SHUTDOWN");
                }
            }
        } catch (SQLException e) {
            throw new AssertionError("the H2 set-up failed", e);
        }
    }

    @Test
    void classifiesLockWaitsAndNothingElse() {
        assertTrue(LockContention.causedBy(new DbClientException("wrapped", realLockTimeout())));
        assertTrue(LockContention.causedBy(new RuntimeException(new SQLException("deadlock", "40P01"))));
        assertTrue(LockContention.causedBy(new SQLException("lock_not_available", "55P03")));
        assertFalse(LockContention.causedBy(new SQLException("unique violation", "23505")));
        assertFalse(LockContention.causedBy(new IllegalStateException("a defect")));
    }

    @Test
    void lockTimeoutIs503WithRetryAfter() {
        try (Http1ClientResponse r = client.post("/locked").submit(new byte[0])) {
            assertEquals(503, r.status().code());
            assertTrue(r.headers().first(HeaderNames.CONTENT_TYPE).orElse("").startsWith("application/problem+json"));
            assertEquals(String.valueOf(ProblemHandler.LOCK_RETRY_AFTER_SECONDS),
                    r.headers().first(HeaderNames.RETRY_AFTER).orElse(null));
            String body = r.as(String.class);
            assertTrue(body.contains(ProblemHandler.PROBLEM_BASE + "busy"), body);
            assertTrue(body.contains("nothing was changed"), body);
        }
        try (Http1ClientResponse r = client.post("/broken").submit(new byte[0])) {
            assertEquals(500, r.status().code(), "a defect stays a 500");
        }
    }
}
