package io.earnidle.backend.openai;

import io.earnidle.backend.customers.ApiKeys;
import io.earnidle.backend.http.Bearer;
import io.earnidle.backend.jobs.Jobs;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** Who calls {@code /v1}: the customer of the bearer API key (the keys of {@code /api/jobs}), within its rate. */
final class Callers {
    private final Jobs jobs;
    private final RequestRate rate;
    private final int perMinute;

    Callers(Jobs jobs, int requestsPerMinute) {
        this.jobs = jobs;
        this.perMinute = requestsPerMinute;
        this.rate = new RequestRate(requestsPerMinute, jobs.ledger()::now);
    }

    /**
     * The customer and key, or 401 (missing, unknown or revoked key) or 429 (over the key's request rate, with
     * Retry-After).
     */
    ApiKeys.Caller customer(ServerRequest req, ServerResponse res) {
        ApiKeys.Caller customer = jobs.callerOfKey(Bearer.token(req))
                .orElseThrow(() -> OpenAiError.invalidKey("Incorrect API key provided"));
        long waitSeconds = rate.acquire(customer.keyId());
        if (waitSeconds > 0) {
            res.headers().set(io.helidon.http.HeaderNames.RETRY_AFTER, Long.toString(waitSeconds));
            throw OpenAiError.rateLimited("Rate limit reached: " + perMinute + " requests per minute per API key. "
                    + "Please try again in " + waitSeconds + "s.");
        }
        return customer;
    }
}
