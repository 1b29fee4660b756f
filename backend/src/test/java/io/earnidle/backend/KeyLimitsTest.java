package io.earnidle.backend;

import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Per-key limits (issue 21, docs/api.md "Limits"): requests and tokens per minute and a spend cap per day, on a clock
 * the test moves; 429 with Retry-After, problem+json under /api and OpenAI's error shape under /v1. The jobs here are
 * never leased (no node), so each test starts a day later with every limit whole.
 */
@ServerTest
class KeyLimitsTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final int REQUESTS = 4;
    private static final int TOKENS = 40;
    private static final long SPEND_CAP = 5000;
    private final Api api;

    KeyLimitsTest(Http1Client client) {
        this.api = new Api(client);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.limits.per-key.requests-per-minute", String.valueOf(REQUESTS),
                "earnidle.limits.per-key.tokens-per-minute", String.valueOf(TOKENS),
                "earnidle.limits.per-key.spend-cap-micro-usdc-per-day", String.valueOf(SPEND_CAP)), CLOCK);
    }

    @BeforeEach
    void newDay() {
        CLOCK.advance(Duration.ofDays(1));
    }

    /** A job of prompt "a" (at most 2 tokens with BOS) and {@code maxTokens}: reserves 200 + 60 x maxTokens. */
    private Resp submit(int maxTokens) {
        return api.post("/api/jobs", CUSTOMER_KEY, """
                {"model":"synthetic-tiny-f32","prompt":"a","max_tokens":%d}""".formatted(maxTokens));
    }

    private static void assertRefused(Resp r, String detailStart) {
        assertEquals(429, r.status(), r.text());
        assertTrue(r.contentType().startsWith("application/problem+json"), r.contentType());
        assertTrue(r.json().path("type").asText().endsWith("rate-limited"), r.text());
        assertTrue(r.json().path("detail").asText().startsWith(detailStart), r.text());
        assertTrue(r.retryAfter() != null && Long.parseLong(r.retryAfter()) >= 1, r.retryAfter());
    }

    @Test
    void requestsOverTheRateAre429UntilTheMinuteHasPassed() {
        for (int i = 0; i < REQUESTS; i++) {
            assertEquals(202, submit(1).status());
        }
        Resp refused = submit(1);
        assertRefused(refused, "Rate limit reached: 4 requests per minute");
        assertEquals(60, Long.parseLong(refused.retryAfter()));
        CLOCK.advance(Duration.ofSeconds(30));
        assertRefused(submit(1), "Rate limit reached");
        CLOCK.advance(Duration.ofSeconds(30));
        assertEquals(202, submit(1).status(), "the refused requests did not count");
    }

    @Test
    void tokensOverTheRateAre429() {
        assertEquals(202, submit(30).status()); // 32 tokens
        CLOCK.advance(Duration.ofSeconds(20));
        Resp refused = submit(10); // 32 + 12 > 40
        assertRefused(refused, "Rate limit reached: 40 tokens per minute");
        assertEquals(40, Long.parseLong(refused.retryAfter()), "when the first job leaves the minute");
        assertEquals(202, submit(6).status(), "a smaller job fits: 32 + 8");
        Resp never = submit(39); // 41 tokens alone
        assertRefused(never, "Rate limit reached: 40 tokens per minute");
        CLOCK.advance(Duration.ofSeconds(40));
        assertEquals(202, submit(30).status());
    }

    @Test
    void spendOverTheCapIs429UntilTheDayHasPassed() {
        assertEquals(202, submit(30).status()); // reserves 200 + 60 x 30 = 2000
        CLOCK.advance(Duration.ofMinutes(1));
        assertEquals(202, submit(30).status());
        CLOCK.advance(Duration.ofMinutes(1));
        Resp refused = submit(30);
        assertRefused(refused, "Spend cap reached: 5000 micro-USDC per day");
        assertTrue(Long.parseLong(refused.retryAfter()) > Duration.ofHours(23).toSeconds(), refused.retryAfter());
        assertEquals(202, submit(10).status(), "800 more fits under the cap");
        CLOCK.advance(Duration.ofDays(1).minusMinutes(1));
        assertEquals(202, submit(30).status(), "the first job has left the day");
    }

    @Test
    void theOpenAiApiAnswersItsOwnShape() {
        Resp r = api.post("/v1/completions", CUSTOMER_KEY, """
                {"model":"synthetic-tiny-f32","prompt":"a","max_tokens":60}""");
        assertEquals(429, r.status(), r.text());
        JsonNode error = r.json().path("error");
        assertEquals("rate_limit_exceeded", error.path("code").asText(), r.text());
        assertTrue(error.path("message").asText().contains("tokens per minute"), r.text());
        assertEquals(60, Long.parseLong(r.retryAfter()));
        for (int i = 1; i < REQUESTS; i++) { // the refused completion counted as a request, as OpenAI counts them
            assertEquals(200, api.get("/v1/models", CUSTOMER_KEY).status());
        }
        Resp requests = api.get("/v1/models", CUSTOMER_KEY);
        assertEquals(429, requests.status(), requests.text());
        assertEquals("rate_limit_exceeded", requests.json().path("error").path("code").asText());
        assertRefused(submit(1), "Rate limit reached: 4 requests per minute"); // one rate for /api and /v1
    }
}
