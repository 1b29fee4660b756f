package io.earnidle.backend.openai;

import io.earnidle.backend.billing.KeyLimits;
import io.earnidle.backend.customers.ApiKeys;
import io.earnidle.backend.http.Bearer;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.jobs.Jobs;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** Who calls {@code /v1}: the customer of the bearer API key (the keys of {@code /api/jobs}), within its limits. */
final class Callers {
    private final Jobs jobs;
    private final KeyLimits limits;

    Callers(Jobs jobs, KeyLimits limits) {
        this.jobs = jobs;
        this.limits = limits;
    }

    /** A caller: its customer and key, and the SHA-256 hex of the key's secret (what its limits count on). */
    record Caller(ApiKeys.Caller key, String keySha256) {
        String customerId() {
            return key.customerId();
        }
    }

    /** The caller, or 401 (missing, unknown or revoked key) or 429 (over the key's request rate, with Retry-After). */
    Caller caller(ServerRequest req, ServerResponse res) {
        String keySha256 = Ids.sha256Hex(Bearer.token(req)); // hashed once: it finds the key and counts its limits
        ApiKeys.Caller key = jobs.callerOfKeyHash(keySha256)
                .orElseThrow(() -> OpenAiError.invalidKey("Incorrect API key provided"));
        limits.request(keySha256, res);
        return new Caller(key, keySha256);
    }

    /** The customer id of the caller (see {@link #caller}). */
    String customer(ServerRequest req, ServerResponse res) {
        return caller(req, res).customerId();
    }

    /** Counts a job on the caller's key, or throws its 429 (see {@link KeyLimits#job}). */
    void job(Caller caller, long tokens, long reservedMicroUsdc, ServerResponse res) {
        limits.job(caller.keySha256(), tokens, reservedMicroUsdc, res);
    }
}
