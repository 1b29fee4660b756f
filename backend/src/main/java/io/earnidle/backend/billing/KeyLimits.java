package io.earnidle.backend.billing;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
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
 * counted. One backend instance counts in memory; in cluster mode the instances share the counts in the database
 * ({@link io.earnidle.backend.cluster.SharedRateCounters}), so the limits hold across them.
 */
public final class KeyLimits {
    private static final Duration MINUTE = Duration.ofMinutes(1);
    private static final Duration DAY = Duration.ofDays(1);

    private final int requestsPerMinute;
    private final long tokensPerMinute;
    private final long spendCapMicroUsdcPerDay;
    private final Supplier<Instant> clock;
    private final RateCounters counters;

    /** Requests and job tokens per key per minute, reservations per key per day; 0 for no limit; in memory. */
    public KeyLimits(int requestsPerMinute, long tokensPerMinute, long spendCapMicroUsdcPerDay,
                     Supplier<Instant> clock) {
        this(requestsPerMinute, tokensPerMinute, spendCapMicroUsdcPerDay, clock, new MemoryRateCounters());
    }

    /** The same limits counted in {@code counters}. */
    public KeyLimits(int requestsPerMinute, long tokensPerMinute, long spendCapMicroUsdcPerDay,
                     Supplier<Instant> clock, RateCounters counters) {
        if (requestsPerMinute < 0 || tokensPerMinute < 0 || spendCapMicroUsdcPerDay < 0) {
            throw new IllegalArgumentException("earnidle.limits.per-key.* must be >= 0");
        }
        this.requestsPerMinute = requestsPerMinute;
        this.tokensPerMinute = tokensPerMinute;
        this.spendCapMicroUsdcPerDay = spendCapMicroUsdcPerDay;
        this.clock = clock;
        this.counters = counters;
    }

    /**
     * Reads {@code earnidle.limits.per-key}; requests per minute default to {@code defaultRequestsPerMinute}; counted
     * in the cluster's {@code sharedLimits}, or in this instance's memory when that is null.
     */
    public static KeyLimits from(Config perKey, int defaultRequestsPerMinute, Supplier<Instant> clock,
                                 RateCounters sharedLimits) {
        return new KeyLimits(perKey.get("requests-per-minute").asInt().orElse(defaultRequestsPerMinute),
                perKey.get("tokens-per-minute").asLong().orElse(0L),
                perKey.get("spend-cap-micro-usdc-per-day").asLong().orElse(0L), clock,
                sharedLimits != null ? sharedLimits : new MemoryRateCounters());
    }

    /** Counts a request of the key, or throws the 429 (Retry-After set on {@code res}). */
    public void request(String keySha256, ServerResponse res) {
        Optional<RateCounters.Refusal> refused = counters.admit(keySha256,
                List.of(new RateCounters.Count("requests", MINUTE, 1, requestsPerMinute)), clock.get());
        if (refused.isPresent()) {
            long wait = refused.get().waitSeconds();
            throw refuse(res, wait, "Rate limit reached: " + requestsPerMinute + " requests per minute per API key. "
                    + "Please try again in " + wait + "s.");
        }
    }

    /**
     * Counts a job of {@code tokens} (prompt upper bound + max_tokens) reserving {@code microUsdc} on the key, or
     * throws the 429 (Retry-After set on {@code res}) and counts nothing.
     */
    public void job(String keySha256, long tokenCount, long microUsdc, ServerResponse res) {
        Optional<RateCounters.Refusal> refused = counters.admit(keySha256, List.of(
                new RateCounters.Count("tokens", MINUTE, tokenCount, tokensPerMinute),
                new RateCounters.Count("spend", DAY, microUsdc, spendCapMicroUsdcPerDay)), clock.get());
        if (refused.isEmpty()) {
            return;
        }
        long wait = refused.get().waitSeconds();
        if (refused.get().index() == 0) {
            throw refuse(res, wait, "Rate limit reached: " + tokensPerMinute + " tokens per minute per API key; this "
                    + "job counts " + tokenCount + " (prompt and max_tokens). Please try again in " + wait + "s.");
        }
        throw refuse(res, wait, "Spend cap reached: " + spendCapMicroUsdcPerDay + " micro-USDC per day per API "
                + "key; this job reserves " + microUsdc + ". Please try again in " + wait + "s.");
    }

    private static Problem refuse(ServerResponse res, long waitSeconds, String detail) {
        res.headers().set(HeaderNames.RETRY_AFTER, Long.toString(waitSeconds)); // kept by /v1's error answer
        return Problem.rateLimited("rate-limited", "Too many requests", detail, waitSeconds);
    }
}
