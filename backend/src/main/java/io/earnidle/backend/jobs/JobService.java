package io.earnidle.backend.jobs;

import java.time.Instant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.billing.KeyLimits;
import io.earnidle.backend.billing.PromptTokens;
import io.earnidle.backend.customers.ApiKeys;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.db.StoredText;
import io.earnidle.backend.http.Bearer;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.models.Models;
import io.earnidle.backend.settings.Settings;
import io.helidon.dbclient.DbRow;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** Customer API: {@code POST /api/jobs}, {@code GET /api/jobs/{id}} and {@code POST /api/jobs/{id}/cancel}. */
public record JobService(Jobs jobs, Models models, KeyLimits limits)
        implements HttpService {
    @Override
    public void routing(HttpRules rules) {
        rules.post("/", this::submit)
                .get("/{id}", this::read)
                .post("/{id}/cancel", this::cancel);
    }

    /** The customer and key of the request's API key (401 when missing, unknown or revoked). */
    private ApiKeys.Caller caller(ServerRequest req) {
        return caller(Ids.sha256Hex(Bearer.token(req)));
    }

    /** The customer and key of an API key secret's SHA-256 hex (401 when unknown or revoked). */
    private ApiKeys.Caller caller(String keySha256) {
        return jobs.callerOfKeyHash(keySha256)
                .orElseThrow(() -> Problem.unauthorized("unknown or revoked API key"));
    }

    private Settings settings() {
        return jobs.settings();
    }

    private Database db() {
        return jobs.db();
    }

    private Ledger ledger() {
        return jobs.ledger();
    }

    private void submit(ServerRequest req, ServerResponse res) {
        String keySha256 = Ids.sha256Hex(Bearer.token(req)); // hashed once: it finds the key and counts its limits
        ApiKeys.Caller caller = caller(keySha256);
        limits.request(keySha256, res);
        ObjectNode body = Json.readObject(req, settings().maxBodyBytes());
        String modelId = Fields.requiredString(body, "model", 128);
        int maxTokens = (int) Fields.requiredLong(body, "max_tokens", 1, settings().maxTokens());
        boolean hasText = Fields.present(body, "prompt");
        boolean hasIds = Fields.present(body, "prompt_ids");
        if (hasText == hasIds) {
            throw Problem.validation("exactly one of prompt and prompt_ids is required");
        }
        ObjectNode sampling = sampling(Fields.optionalObject(body, "sampling"));
        Models.Model model = models.find(db().execute(), modelId)
                .orElseThrow(() -> Problem.unknownModel("model " + modelId + " is not served; see GET /api/models"));
        String prompt = null;
        int[] ids = null;
        if (hasText) {
            prompt = Fields.requiredString(body, "prompt", settings().maxPromptChars());
        } else {
            ids = Fields.intArray(body, "prompt_ids", settings().maxPromptChars(), model.vocabSize());
            if (ids.length + maxTokens > model.contextLength()) {
                throw Problem.validation("prompt_ids length + max_tokens must be at most the model's context length "
                        + model.contextLength() + ", got " + (ids.length + maxTokens));
            }
        }
        // the job's class: the lowest trust tier that may run it (docs/trust.md)
        String minTier = Fields.present(body, "min_tier") ? Fields.requiredString(body, "min_tier", 16) : "probation";
        if (!java.util.List.of("probation", "verified", "trusted").contains(minTier)) {
            throw Problem.validation("min_tier must be probation, verified or trusted");
        }
        limits.job(keySha256, PromptTokens.upperBound(prompt, ids == null ? 0 : ids.length) + maxTokens,
                jobs.reservation(modelId, prompt, ids, maxTokens), res);
        Jobs.Created job = jobs.create(caller, modelId, prompt, ids, sampling, maxTokens, minTier);
        ObjectNode out = Json.object();
        out.put("id", job.id());
        out.put("status", "queued");
        out.put("model", modelId);
        out.put("max_tokens", maxTokens);
        out.put("min_tier", minTier);
        out.put("price_micro_usdc", job.priceMicroUsdc());
        out.put("reserved_micro_usdc", job.priceMicroUsdc());
        out.put("created_at", job.createdAt().toString());
        Json.sendCreated(req, res, Status.ACCEPTED_202, job.id(), out);
    }

    /** Normalised sampling parameters with defaults (greedy when temperature is 0). */
    static ObjectNode sampling(ObjectNode in) {
        ObjectNode s = Json.object();
        s.put("temperature", Fields.optionalDouble(in, "temperature", 0, 2, 0));
        s.put("top_k", Fields.optionalLong(in, "top_k", 0, 1000, 40));
        s.put("top_p", Fields.optionalDouble(in, "top_p", 0.0, 1.0, 0.95));
        long seed = Fields.optionalLong(in, "seed", Long.MIN_VALUE, Long.MAX_VALUE, 42);
        if (seed < 0 || seed > Jobs.MAX_SEED) {
            throw Problem.validation("seed must be between 0 and 2^53 = " + Jobs.MAX_SEED
                    + " (the nodes read it as a double, which holds no larger integer exactly), got " + seed);
        }
        s.put("seed", seed);
        return s;
    }

    private void read(ServerRequest req, ServerResponse res) {
        String customerId = caller(req).customerId();
        String id = req.path().pathParameters().get("id");
        DbRow job = Database.owned(db().execute(), "job-by-id", id, "customer_id", customerId,
                "no job " + id + " for this customer");
        Json.send(res, Status.OK_200, json(job));
    }

    /**
     * Cancels a queued job of the request's customer (one whose lease ran out reads as queued): it fails, never
     * served, and its reservation is released in full. 409 when a node holds it or it has a result.
     */
    private void cancel(ServerRequest req, ServerResponse res) {
        String customerId = caller(req).customerId();
        String id = req.path().pathParameters().get("id");
        Database.owned(db().execute(), "job-by-id", id, "customer_id", customerId, "no job " + id + " for this customer");
        Instant now = ledger().now();
        long cancelled = db().execute().namedUpdate("billing-cancel-job", Database.ts(now), id, customerId,
                Database.ts(now));
        DbRow job = Database.get(db().execute(), "job-by-id", id).orElseThrow();
        if (cancelled != 1 && Database.instant(job, "cancelled_at") == null) {
            throw Problem.conflict("job " + id + " is " + publicStatus(job, now) + "; only a queued job can be "
                    + "cancelled");
        }
        Json.send(res, Status.OK_200, json(job));
    }

    private ObjectNode json(DbRow job) {
        String id = Database.str(job, "id");
        ObjectNode out = Json.object();
        out.put("id", id);
        out.put("status", publicStatus(job, ledger().now()));
        // the last result's verification (docs/trust.md): null before a result, pending, passed, failed, skipped
        out.put("verification", Database.str(job, "verification"));
        out.put("model", Database.str(job, "model_id"));
        out.put("max_tokens", Database.lng(job, "max_tokens"));
        out.put("price_micro_usdc", Database.lng(job, "price_micro_usdc"));
        // per-token billing (docs/api.md "Pricing"): the reservation, and once completed the charge and its tokens
        out.put("reserved_micro_usdc", Database.lng(job, "price_micro_usdc"));
        Long charged = Database.lngOrNull(job, "charged_micro_usdc");
        String status = Database.str(job, "status");
        if (charged == null || !("verifying".equals(status) || "completed".equals(status))) {
            out.putNull("charged_micro_usdc");
            out.putNull("usage");
        } else {
            out.put("charged_micro_usdc", charged);
            ObjectNode usage = out.putObject("usage");
            usage.put("prompt_tokens", Database.lng(job, "prompt_tokens"));
            usage.put("completion_tokens", Database.lng(job, "completion_tokens"));
        }
        out.put("created_at", Database.instant(job, "created_at").toString());
        Instant completed = Database.instant(job, "completed_at");
        out.put("completed_at", completed == null ? null : completed.toString());
        // the tier that serves it: the nodes of its class, or the one it cascaded to (docs/api.md "Cascade")
        String servedTier = Database.str(job, "served_tier");
        out.put("tier", servedTier != null ? servedTier : Database.str(job, "min_tier"));
        out.putNull("result");
        if ("completed".equals(Database.str(job, "status")) && "upstream".equals(servedTier)) {
            DbRow r = Database.get(db().execute(), "cascade-result-by-job", id).orElseThrow();
            ObjectNode result = out.putObject("result");
            result.put("text", StoredText.read(r, "result_text"));
            result.putNull("token_ids"); // the upstream answers text, not the model's token ids
            result.put("token_count", Database.lng(r, "completion_tokens"));
            result.put("engine", "upstream");
            result.putObject("timing").put("upstream_ms", Database.dbl(r, "upstream_ms"));
        } else if ("completed".equals(Database.str(job, "status"))) {
            DbRow r = Database.get(db().execute(), "result-by-job", id).orElseThrow();
            ObjectNode result = out.putObject("result");
            result.put("text", StoredText.read(r, "result_text"));
            JsonNode ids = Json.parse(Database.str(r, "token_ids_json"));
            result.set("token_ids", (ArrayNode) ids);
            result.put("token_count", Database.lng(r, "token_count"));
            result.put("engine", Database.str(r, "engine"));
            ObjectNode timing = result.putObject("timing");
            timing.put("prefill_ms", Database.dbl(r, "prefill_ms"));
            timing.put("decode_ms", Database.dbl(r, "decode_ms"));
        }
        return out;
    }

    /** A lease that has run out puts the job back in the queue, so it reads as queued; a cancelled job reads so. */
    static String publicStatus(DbRow job, Instant now) {
        if (Database.instant(job, "cancelled_at") != null) {
            return "cancelled";
        }
        String status = Database.str(job, "status");
        if ("leased".equals(status) && !Database.instant(job, "lease_expires_at").isAfter(now)) {
            return "queued";
        }
        return status;
    }
}
