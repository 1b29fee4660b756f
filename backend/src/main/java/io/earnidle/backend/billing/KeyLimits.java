package io.earnidle.backend.billing;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

import io.earnidle.backend.http.Problem;
import io.helidon.config.Config;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;

/**
 * Per-key limits (config {@code earnidle.limits.per-key}, docs/api.md "Limits"), keyed by the SHA-256 hex of the
 * bearer API key: requests per sliding minute, tokens per sliding minute (a job's prompt upper bound + max_tokens)
 * and a spend cap per sliding day (the jobs' reservations: the most they can cost). Over a limit the request is
 * refused with a {@code 429} problem and {@code Retry-After} (under {@code /v1} in OpenAI's error shape) and is not
 * counted. Each backend instance counts on its own.
 */
public final class KeyLimits {
    private final int requestsPerMinute;
    private final long tokensPerMinute;
    private final long spendCapMicroUsdcPerDay;
    private final Supplier<Instant> clock;
    private final SlidingSum requests = new SlidingSum(Duration.ofMinutes(1));
    private final SlidingSum tokens = new SlidingSum(Duration.ofMinutes(1));
    private final SlidingSum spend = new SlidingSum(Duration.ofDays(1));

    /** Requests and job tokens per key per minute, reservations per key per day; 0 for no limit. */
    public KeyLimits(int requestsPerMinute, long tokensPerMinute, long spendCapMicroUsdcPerDay,
                     Supplier<Instant> clock) {
        if (requestsPerMinute < 0 || tokensPerMinute < 0 || spendCapMicroUsdcPerDay < 0) {
            throw new IllegalArgumentException("earnidle.limits.per-key.* must be >= 0");
        }
        this.requestsPerMinute = requestsPerMinute;
        this.tokensPerMinute = tokensPerMinute;
        this.spendCapMicroUsdcPerDay = spendCapMicroUsdcPerDay;
        this.clock = clock;
    }

    /** Reads {@code earnidle.limits.per-key}; requests per minute default to {@code defaultRequestsPerMinute}. */
    public static KeyLimits from(Config perKey, int defaultRequestsPerMinute, Supplier<Instant> clock) {
        return new KeyLimits(perKey.get("requests-per-minute").asInt().orElse(defaultRequestsPerMinute),
                perKey.get("tokens-per-minute").asLong().orElse(0L),
                perKey.get("spend-cap-micro-usdc-per-day").asLong().orElse(0L), clock);
    }

    /** Counts a request of the key, or throws the 429 (Retry-After set on {@code res}). */
    public synchronized void request(String keySha256, ServerResponse res) {
        Instant now = clock.get();
        long wait = requests.wait(keySha256, 1, requestsPerMinute, now);
        if (wait == 0) {
            requests.add(keySha256, 1, now);
        } else {
            throw refuse(res, wait, "Rate limit reached: " + requestsPerMinute + " requests per minute per API key. "
                    + "Please try again in " + wait + "s.");
        }
    }

    /**
     * Counts a job of {@code tokens} (prompt upper bound + max_tokens) reserving {@code microUsdc} on the key, or
     * throws the 429 (Retry-After set on {@code res}) and counts nothing.
     */
    public synchronized void job(String keySha256, long tokenCount, long microUsdc, ServerResponse res) {
        Instant now = clock.get();
        long wait = tokens.wait(keySha256, tokenCount, tokensPerMinute, now);
        if (wait > 0) {
            throw refuse(res, wait, "Rate limit reached: " + tokensPerMinute + " tokens per minute per API key; this "
                    + "job counts " + tokenCount + " (prompt and max_tokens). Please try again in " + wait + "s.");
        }
        wait = spend.wait(keySha256, microUsdc, spendCapMicroUsdcPerDay, now);
        if (wait > 0) {
            throw refuse(res, wait, "Spend cap reached: " + spendCapMicroUsdcPerDay + " micro-USDC per day per API "
                    + "key; this job reserves " + microUsdc + ". Please try again in " + wait + "s.");
        }
        tokens.add(keySha256, tokenCount, now);
        spend.add(keySha256, microUsdc, now);
    }

    private static Problem refuse(ServerResponse res, long waitSeconds, String detail) {
        res.headers().set(HeaderNames.RETRY_AFTER, Long.toString(waitSeconds)); // kept by /v1's error answer
        return Problem.rateLimited("rate-limited", "Too many requests", detail, waitSeconds);
    }
}
