package io.earnidle.backend;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.RateLimitException;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionCreateParams;
import io.earnidle.backend.models.Models;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The two 429s of the OpenAI API, through OpenAI's client: the per-key request rate (3 a minute here, on a clock the
 * test moves) and an empty balance ({@code insufficient_quota}; the demo customer is not funded here).
 */
@ServerTest
class OpenAiLimitsTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final int PER_MINUTE = 3;
    private final OpenAIClient openai;

    OpenAiLimitsTest(URI uri) {
        this.openai = OpenAIOkHttpClient.builder().baseUrl(uri + "/v1").apiKey(CUSTOMER_KEY).maxRetries(0).build();
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.openai.requests-per-minute", String.valueOf(PER_MINUTE),
                "earnidle.demo.customer-funding-micro-usdc", "0"), CLOCK);
    }

    @BeforeEach
    void newMinute() {
        CLOCK.advance(Duration.ofMinutes(1)); // every test starts with the whole rate
    }

    @Test
    void requestsOverTheRateAre429UntilTheMinuteHasPassed() {
        for (int i = 0; i < PER_MINUTE; i++) {
            assertTrue(openai.models().list().data().stream().anyMatch(m -> m.id().equals(Models.SYNTHETIC_TINY)));
        }
        RateLimitException e = assertThrows(RateLimitException.class, () -> openai.models().list());
        assertEquals(429, e.statusCode());
        assertEquals("rate_limit_exceeded", e.code().orElseThrow());
        assertEquals("requests", e.type().orElseThrow());
        assertEquals("60", e.headers().values("retry-after").get(0));
        CLOCK.advance(Duration.ofSeconds(30));
        assertThrows(RateLimitException.class, () -> openai.models().list()); // the refused one did not count
        CLOCK.advance(Duration.ofSeconds(30));
        openai.models().list();
    }

    @Test
    void anEmptyBalanceIs429InsufficientQuota() {
        RateLimitException chat = assertThrows(RateLimitException.class, () -> openai.chat().completions().create(
                ChatCompletionCreateParams.builder().model(Models.SYNTHETIC_TINY).addUserMessage("hi")
                        .maxCompletionTokens(4).build()));
        assertEquals(429, chat.statusCode());
        assertEquals("insufficient_quota", chat.code().orElseThrow());
        assertEquals("insufficient_quota", chat.type().orElseThrow());
        assertTrue(chat.getMessage().contains("quota"), chat.getMessage());
        RateLimitException text = assertThrows(RateLimitException.class, () -> openai.completions().create(
                CompletionCreateParams.builder().model(Models.SYNTHETIC_TINY).prompt("hi").maxTokens(4).build()));
        assertEquals("insufficient_quota", text.code().orElseThrow());
    }
}
