package io.earnidle.backend.openai;

import io.earnidle.backend.http.LockContentionTest;
import io.earnidle.backend.http.ProblemHandler;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Under {@code /v1} a lost lock wait is OpenAI's 503 {@code server_busy} with {@code Retry-After}, never a 500. */
@ServerTest
class OpenAiLockContentionTest {
    private final Http1Client client;

    OpenAiLockContentionTest(Http1Client client) {
        this.client = client;
    }

    @SetUpServer
    static void server(WebServerConfig.Builder server) {
        server.host("127.0.0.1");
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        routing.post("/v1/locked", OpenAiError.guard((req, res) -> {
            throw new DbClientException("Failed to execute statement", LockContentionTest.realLockTimeout());
        }));
    }

    @Test
    void lockTimeoutIs503ServerBusyWithRetryAfter() {
        try (Http1ClientResponse r = client.post("/v1/locked").submit(new byte[0])) {
            assertEquals(503, r.status().code());
            assertEquals(String.valueOf(ProblemHandler.LOCK_RETRY_AFTER_SECONDS),
                    r.headers().first(HeaderNames.RETRY_AFTER).orElse(null));
            String body = r.as(String.class);
            assertTrue(body.contains("\"type\":\"server_error\"") && body.contains("\"code\":\"server_busy\""), body);
        }
    }
}
