package io.earnidle.backend.openai;

import java.io.UncheckedIOException;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.jobs.Jobs;
import io.earnidle.backend.models.ModelCatalog;
import io.earnidle.backend.settings.Settings;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerResponse;

/**
 * What chat and text completions share once the prompt is token ids: the context check, the job (created through
 * {@link Jobs}, priced and verified like any job), then the answer as one JSON body or as an event stream.
 */
final class CompletionFlow {
    /** The response objects of one endpoint. */
    interface Shape {
        /** {@code chatcmpl-} or {@code cmpl-}. */
        String idPrefix();

        /** {@code chat.completion} or {@code text_completion}. */
        String object();

        /** {@code chat.completion.chunk} or {@code text_completion}. */
        String chunkObject();

        /** The choice of a whole answer. */
        ObjectNode choice(String text, String finishReason);

        /** A streamed choice: {@code text} (may be empty) and, in the last one, the finish reason. */
        ObjectNode chunkChoice(String text, String finishReason, boolean first);

        /** The request field that holds the prompt ({@code messages}, {@code prompt}). */
        String promptParam();

        /** The prompt of {@code body} as token ids of {@code model}. */
        int[] promptIds(ObjectNode body, ModelCatalog.Entry model);
    }

    /** The body field and header that name the tier that served the job (docs/api.md "Cascade"). */
    static final String TIER_FIELD = "earnidle_tier";
    static final HeaderName TIER_HEADER = HeaderNames.create("X-Earnidle-Tier");

    private final OpenAiApi api;
    private final Settings settings;
    private final Jobs jobs;
    private final JobAnswers answers;
    private final ModelPrompts prompts;

    CompletionFlow(OpenAiApi api, JobAnswers answers) {
        this.api = api;
        this.settings = api.settings();
        this.jobs = api.jobs();
        this.answers = answers;
        this.prompts = api.prompts();
    }

    /** The handler of an endpoint of {@code shape}: caller, body, settings, model, prompt, then the answer. */
    Handler handler(Shape shape) {
        return OpenAiError.guard((req, res) -> {
            Callers.Caller caller = api.callers().caller(req, res);
            ObjectNode body = Json.readObject(req, settings.maxBodyBytes());
            GenerationParams p = GenerationParams.parse(body, settings.maxTokens());
            ModelCatalog.Entry model = api.model(p.model());
            answer(res, caller, model, shape.promptIds(body, model), p, shape);
        });
    }

    private void answer(ServerResponse res, Callers.Caller caller, ModelCatalog.Entry model, int[] promptIds,
                        GenerationParams p, Shape shape) {
        int context = model.model().contextLength();
        if (promptIds.length > settings.maxPromptChars()) {
            throw OpenAiError.invalid(shape.promptParam(), "The prompt is " + promptIds.length + " tokens; this "
                    + "API accepts at most " + settings.maxPromptChars());
        }
        int room = context - promptIds.length;
        int maxTokens = p.maxTokens() != null ? p.maxTokens() : Math.min(settings.maxTokens(), room);
        if (room < 1 || promptIds.length + maxTokens > context) {
            throw OpenAiError.contextLengthExceeded(shape.promptParam(), "This model's maximum context length is "
                    + context + " tokens. However, you requested " + (promptIds.length + maxTokens) + " tokens ("
                    + promptIds.length + " in the " + shape.promptParam() + ", " + maxTokens + " in the "
                    + "completion). Please reduce the length of the " + shape.promptParam() + " or completion.");
        }
        api.callers().job(caller, promptIds.length + (long) maxTokens,
                jobs.reservation(model.model().id(), null, promptIds, maxTokens), res);
        Jobs.Created job = jobs.create(caller.key(), model.model().id(), null, promptIds, p.sampling(), maxTokens);
        String id = shape.idPrefix() + job.id();
        long created = job.createdAt().getEpochSecond();
        res.headers().set(HeaderNames.create("X-Earnidle-Job"), job.id());
        if (!p.stream()) {
            JobAnswers.Answer a = answers.await(job.id());
            ObjectNode body = envelope(id, shape.object(), created, p.model());
            body.putArray("choices").add(shape.choice(a.text(), finishReason(model, a, maxTokens)));
            body.set("usage", usage(promptIds.length, a.completionTokens()));
            body.put(TIER_FIELD, a.tier()); // which tier served it (docs/api.md "Cascade")
            res.headers().set(TIER_HEADER, a.tier());
            Json.send(res, Status.OK_200, body);
            return;
        }
        try (EventStream events = new EventStream(res)) {
            events.data(chunk(id, shape, created, p, shape.chunkChoice("", null, true))); // the stream has begun
            try {
                JobAnswers.Answer a = answers.await(job.id(), p.verifiedOnly(),
                        text -> events.data(chunk(id, shape, created, p, shape.chunkChoice(text, null, false))));
                String finish = finishReason(model, a, maxTokens);
                ObjectNode finishChunk = chunk(id, shape, created, p, shape.chunkChoice("", finish, false));
                finishChunk.put(TIER_FIELD, a.tier()); // the headers went out before the job was served
                events.data(finishChunk);
                if (p.includeUsage()) {
                    ObjectNode last = envelope(id, shape.chunkObject(), created, p.model());
                    last.putArray("choices");
                    last.set("usage", usage(promptIds.length, a.completionTokens()));
                    events.data(last);
                }
                events.done();
            } catch (OpenAiError e) {
                events.data(e.json()); // OpenAI's way: an error event ends a stream that has begun
            }
        } catch (UncheckedIOException gone) {
            // the client closed the stream; its job goes on and is charged like any job (docs/api.md)
        }
    }

    /** The upstream's finish reason, or the one the node's token ids tell. */
    private String finishReason(ModelCatalog.Entry model, JobAnswers.Answer a, int maxTokens) {
        return a.finishReason() != null ? a.finishReason() : prompts.finishReason(model, a.tokenIds(), maxTokens);
    }

    private static ObjectNode chunk(String id, Shape shape, long created, GenerationParams p, ObjectNode choice) {
        ObjectNode c = envelope(id, shape.chunkObject(), created, p.model());
        c.putArray("choices").add(choice);
        if (p.includeUsage()) {
            c.putNull("usage");
        }
        return c;
    }

    private static ObjectNode envelope(String id, String object, long created, String model) {
        ObjectNode o = Json.object();
        o.put("id", id);
        o.put("object", object);
        o.put("created", created);
        o.put("model", model);
        o.putNull("system_fingerprint");
        return o;
    }

    private static ObjectNode usage(int prompt, int completion) {
        ObjectNode u = Json.object();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        return u;
    }
}
