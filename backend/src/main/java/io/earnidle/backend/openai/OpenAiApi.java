package io.earnidle.backend.openai;

import io.earnidle.backend.billing.KeyLimits;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.jobs.Jobs;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.models.ModelCatalog;
import io.earnidle.backend.models.Models;
import io.earnidle.backend.settings.Settings;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The OpenAI-compatible API under {@code /v1} (issue 20, docs/api.md): chat and text completions answered by jobs,
 * the model catalog, errors in OpenAI's shape. One service per endpoint; this class holds what they share.
 */
public final class OpenAiApi {
    private final Settings settings;
    private final Jobs jobs;
    private final ModelCatalog catalog;
    private final Callers callers;
    private final ModelPrompts prompts;
    private final CompletionFlow flow;
    private final KeyLimits limits;

    /** {@code partial} is where streams find a job's output before its result ({@link PartialOutput#NONE} now). */
    public OpenAiApi(Settings settings, OpenAiSettings openai, Database db, Ledger ledger, Models models,
                     PartialOutput partial, KeyLimits limits) {
        this.settings = settings;
        this.jobs = new Jobs(settings, db, ledger);
        this.catalog = new ModelCatalog(db, models);
        this.limits = limits;
        this.callers = new Callers(jobs, limits);
        this.prompts = new ModelPrompts(models.tokenizers());
        this.flow = new CompletionFlow(this, new JobAnswers(db, openai, partial));
    }

    /** Mounts the endpoints, and a {@code /v1} fallback that answers anything else with an OpenAI-shaped 404. */
    public void register(HttpRouting.Builder routing) {
        routing.register("/v1/chat/completions", new ChatCompletionService(this))
                .register("/v1/completions", new CompletionService(this))
                .register("/v1/models", new ModelListService(this))
                .register("/v1", unknownEndpoint());
    }

    private static HttpService unknownEndpoint() {
        return rules -> rules.any(OpenAiError.guard(OpenAiApi::notFound));
    }

    private static void notFound(ServerRequest req, ServerResponse res) {
        throw new OpenAiError(404, "invalid_request_error", null, "unknown_url", "Invalid URL ("
                + req.prologue().method().text() + " " + req.path().absolute().path() + ")");
    }

    /** The served model {@code id}, or an OpenAI 404 {@code model_not_found}. */
    ModelCatalog.Entry model(String id) {
        return catalog.find(id).orElseThrow(() -> OpenAiError.modelNotFound(id));
    }

    Settings settings() {
        return settings;
    }

    Jobs jobs() {
        return jobs;
    }

    ModelCatalog catalog() {
        return catalog;
    }

    /** The per-key limits {@code /v1} counts on, shared with {@code POST /api/jobs}. */
    public KeyLimits limits() {
        return limits;
    }

    Callers callers() {
        return callers;
    }

    ModelPrompts prompts() {
        return prompts;
    }

    CompletionFlow flow() {
        return flow;
    }
}
