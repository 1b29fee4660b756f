package io.earnidle.backend.jobs;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.billing.RateCard;
import io.earnidle.backend.customers.ApiKeys;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.settings.Settings;

/**
 * The one way a customer's job is created ({@code POST /api/jobs} and the OpenAI-compatible {@code /v1} API): the
 * price of {@code max_tokens} at the model's rate ({@link JobCharges#reservation}) is reserved against the customer's
 * balance minus what unfinished jobs have committed, and the job is queued for the nodes.
 */
public record Jobs(Settings settings, Database db, Ledger ledger) {
    /**
     * The largest sampling seed in absolute value: a seed must be exact in a double, since the nodes' JSON reader (and
     * JavaScript) hold numbers as doubles and refuse a larger one, so a job with one could never run.
     */
    public static final long MAX_SEED = 1L << 53;

    /** A queued job. */
    public record Created(String id, long priceMicroUsdc, Instant createdAt) {
    }

    /** The customer and key of an API key secret, if it is a key that is not revoked. */
    public Optional<ApiKeys.Caller> callerOfKey(String apiKey) {
        return ApiKeys.authenticate(db.execute(), apiKey);
    }

    /** The customer and key of an API key secret's SHA-256 hex, if it is a key that is not revoked. */
    public Optional<ApiKeys.Caller> callerOfKeyHash(String apiKeySha256) {
        return ApiKeys.authenticateHash(db.execute(), apiKeySha256);
    }

    /** The customer id of an API key secret, if it is a key that is not revoked. */
    public Optional<String> customerOfKey(String apiKey) {
        return callerOfKey(apiKey).map(ApiKeys.Caller::customerId);
    }

    /** What a job on {@code modelId} reserves at submission ({@link JobCharges#reservation} at the model's rate). */
    public long reservation(String modelId, String prompt, int[] promptIds, long maxTokens) {
        return JobCharges.reservation(settings.rateCard().of(modelId), prompt, promptIds, maxTokens);
    }

    /**
     * Queues a job on {@code modelId} with exactly one of {@code prompt} (tokenized by the node, BOS added) and
     * {@code promptIds} (used as given). Throws a 402 insufficient-funds {@link Problem} when the customer's balance
     * does not cover the price on top of the unfinished jobs.
     */
    public Created create(ApiKeys.Caller caller, String modelId, String prompt, int[] promptIds,
                          ObjectNode sampling, int maxTokens) {
        return create(caller, modelId, prompt, promptIds, sampling, maxTokens, "probation");
    }

    /**
     * {@link #create(ApiKeys.Caller, String, String, int[], ObjectNode, int)} for the job class {@code minTier}: the
     * lowest trust tier ({@code probation}, {@code verified}, {@code trusted}) whose nodes may lease it
     * (docs/trust.md). The job records the key that submitted it.
     */
    public Created create(ApiKeys.Caller caller, String modelId, String prompt, int[] promptIds,
                          ObjectNode sampling, int maxTokens, String minTier) {
        String customerId = caller.customerId();
        if ((prompt == null) == (promptIds == null)) {
            throw new IllegalArgumentException("exactly one of prompt and promptIds");
        }
        RateCard.Rate rate = settings.rateCard().of(modelId);
        long price = JobCharges.reservation(rate, prompt, promptIds, maxTokens);
        Instant now = ledger.now();
        String jobId = Ids.newId("job_");
        db.inTransaction(tx -> {
            // the job's rows first, the customer's account row last: that lock serializes all of one customer's job
            // submissions and results (until the commit), so it is held for the balance check alone
            // one INSERT with the submitting key, the rate fixed now (JobCharges#rate) and the job class
            if (prompt != null) {
                tx.namedInsert("insert-job-text", jobId, customerId, modelId, prompt, Json.write(sampling),
                        maxTokens, price, Database.ts(now), caller.keyId(), rate.requestMicroUsdc(),
                        rate.inputPerTokenMicroUsdc(), rate.outputPerTokenMicroUsdc(), minTier);
            } else {
                tx.namedInsert("insert-job-ids", jobId, customerId, modelId, Json.write(promptIds),
                        Json.write(sampling), maxTokens, price, Database.ts(now), caller.keyId(),
                        rate.requestMicroUsdc(), rate.inputPerTokenMicroUsdc(), rate.outputPerTokenMicroUsdc(),
                        minTier);
            }
            String account = Ledger.accountId("customer", customerId);
            ledger.lock(tx, List.of(account));
            long balance = ledger.available(tx, account);
            long committed = Database.total(tx, "customer-open-job-total", customerId, customerId, customerId) - price; // but this job
            if (balance - committed < price) { // the transaction rolls back: no job
                throw Problem.insufficientFunds("job costs " + price + " micro-USDC; balance " + balance
                        + " minus " + committed + " committed to unfinished jobs leaves " + (balance - committed));
            }
            return null;
        });
        return new Created(jobId, price, now);
    }
}
