package io.earnidle.backend.http;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.Optional;
import java.util.UUID;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.earnidle.backend.openai.OpenAiError;
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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A request that loses a lock wait, or a wait for a pooled connection, is answered 503 with {@code Retry-After},
 * never 500: nothing it wrote was kept and the same request may succeed when sent again. Under {@code /api} the answer
 * is problem+json {@code busy}, under {@code /v1} OpenAI's {@code server_busy}. The failures are real: a lock timeout
 * of an H2 database and a connection timeout of a Hikari pool of one, wrapped as the database client reports them
 * ({@code PoolExhaustionTest} exhausts the backend's own pool).
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
        }).post("/pool-empty", (req, res) -> {
            throw new DbClientException("Failed to create a connection", realConnectionTimeout());
        }).post("/broken", (req, res) -> {
            throw new IllegalStateException("a defect");
        }).post("/v1/locked", OpenAiError.guard((req, res) -> {
            throw new DbClientException("Failed to execute statement", realLockTimeout());
        })).post("/v1/pool-empty", OpenAiError.guard((req, res) -> {
            throw new DbClientException("Failed to create a connection", realConnectionTimeout());
        })).error(Exception.class, new ProblemHandler());
    }

    /** What H2 throws when a second transaction asks for a row lock that a first one holds past LOCK_TIMEOUT. */
    static SQLException realLockTimeout() {
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

    /** What Hikari throws when a pool of one connection, that one in use, is asked for another (its shortest wait). */
    static SQLException realConnectionTimeout() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:h2:mem:pool-" + UUID.randomUUID());
        config.setMaximumPoolSize(1);
        config.setConnectionTimeout(250);
        try (HikariDataSource pool = new HikariDataSource(config);
             Connection held = pool.getConnection()) {
            return assertThrows(SQLTransientConnectionException.class, pool::getConnection);
        } catch (SQLException e) {
            throw new AssertionError("the pool set-up failed", e);
        }
    }

    @Test
    void classifiesLockAndConnectionWaitsAndNothingElse() {
        assertEquals(Optional.of(LockContention.Wait.LOCK),
                LockContention.waitOf(new DbClientException("wrapped", realLockTimeout())));
        assertEquals(Optional.of(LockContention.Wait.LOCK),
                LockContention.waitOf(new RuntimeException(new SQLException("deadlock", "40P01"))));
        assertEquals(Optional.of(LockContention.Wait.LOCK),
                LockContention.waitOf(new SQLException("lock_not_available", "55P03")));
        assertEquals(Optional.of(LockContention.Wait.CONNECTION),
                LockContention.waitOf(new DbClientException("wrapped", realConnectionTimeout())));
        assertEquals(Optional.empty(), LockContention.waitOf(new SQLException("unique violation", "23505")));
        assertEquals(Optional.empty(), LockContention.waitOf(new IllegalStateException("a defect")));
    }

    @Test
    void lockAndConnectionTimeoutsAre503BusyWithRetryAfter() {
        assertBusyProblem("/locked", "data another request was changing");
        assertBusyProblem("/pool-empty", "a free database connection");
        try (Http1ClientResponse r = client.post("/broken").submit(new byte[0])) {
            assertEquals(500, r.status().code(), "a defect stays a 500");
        }
    }

    @Test
    void underV1TheyAre503ServerBusyWithRetryAfter() {
        for (String path : new String[] {"/v1/locked", "/v1/pool-empty"}) {
            try (Http1ClientResponse r = client.post(path).submit(new byte[0])) {
                assertEquals(503, r.status().code(), path);
                assertEquals(String.valueOf(ProblemHandler.LOCK_RETRY_AFTER_SECONDS),
                        r.headers().first(HeaderNames.RETRY_AFTER).orElse(null), path);
                String body = r.as(String.class);
                assertTrue(body.contains("\"type\":\"server_error\"") && body.contains("\"code\":\"server_busy\""),
                        body);
            }
        }
    }

    private void assertBusyProblem(String path, String waitedFor) {
        try (Http1ClientResponse r = client.post(path).submit(new byte[0])) {
            assertEquals(503, r.status().code(), path);
            assertTrue(r.headers().first(HeaderNames.CONTENT_TYPE).orElse("").startsWith("application/problem+json"));
            assertEquals(String.valueOf(ProblemHandler.LOCK_RETRY_AFTER_SECONDS),
                    r.headers().first(HeaderNames.RETRY_AFTER).orElse(null), path);
            String body = r.as(String.class);
            assertTrue(body.contains(ProblemHandler.PROBLEM_BASE + "busy"), body);
            assertTrue(body.contains(waitedFor) && body.contains("nothing was changed"), body);
        }
    }
}
