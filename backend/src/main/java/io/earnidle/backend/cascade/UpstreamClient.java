package io.earnidle.backend.cascade;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.helidon.dbclient.DbRow;

/**
 * One call of an upstream OpenAI-compatible API for a job: {@code POST {url}/completions} with the job's prompt (its
 * text, or its token ids, which the legacy completions API also takes), {@code max_tokens} and sampling, and the
 * upstream's key as a bearer token. The answer must carry the upstream's {@code usage} (what the job is billed by).
 */
final class UpstreamClient {
    /** The upstream's answer: its text, finish reason and token counts (from its {@code usage}). */
    record Answer(String text, String finishReason, int promptTokens, int completionTokens) {
    }

    /** The call failed or its answer cannot be used; the message says why. */
    static final class Failure extends Exception {
        Failure(String message) {
            super(message);
        }
    }

    private final CascadeSettings.Upstream upstream;
    private final HttpClient http;

    UpstreamClient(CascadeSettings.Upstream upstream) {
        this.upstream = upstream;
        this.http = HttpClient.newBuilder().connectTimeout(upstream.timeout()).build();
    }

    /** The request body for {@code job} (a {@code jobs} row). */
    ObjectNode body(DbRow job) {
        ObjectNode body = Json.object();
        body.put("model", upstream.modelName(Database.str(job, "model_id")));
        String ids = Database.str(job, "prompt_ids_json");
        if (ids != null) {
            body.set("prompt", Json.parse(ids));
        } else {
            body.put("prompt", Database.str(job, "prompt"));
        }
        body.put("max_tokens", Database.lng(job, "max_tokens"));
        JsonNode sampling = Json.parse(Database.str(job, "sampling_json"));
        for (String field : new String[] {"temperature", "top_p", "seed"}) {
            if (sampling.has(field)) {
                body.set(field, sampling.get(field));
            }
        }
        body.put("stream", false);
        return body;
    }

    /** Calls the upstream for {@code job}; never takes longer than the configured timeout. */
    Answer complete(DbRow job) throws Failure, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(upstream.url() + "/completions"))
                .timeout(upstream.timeout())
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + upstream.apiKey())
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body(job)), StandardCharsets.UTF_8))
                .build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new Failure("upstream unreachable: " + e);
        }
        if (response.statusCode() != 200) {
            throw new Failure("upstream answered HTTP " + response.statusCode());
        }
        JsonNode answer;
        try {
            answer = Json.parse(response.body());
        } catch (RuntimeException e) {
            throw new Failure("upstream answer is not JSON");
        }
        JsonNode choice = answer.path("choices").path(0);
        JsonNode text = choice.path("text");
        JsonNode usage = answer.path("usage");
        if (!text.isTextual() || !usage.path("completion_tokens").isIntegralNumber()
                || !usage.path("completion_tokens").canConvertToInt()
                || usage.path("completion_tokens").intValue() < 0) {
            throw new Failure("upstream answer has no choices[0].text or no usage.completion_tokens");
        }
        JsonNode promptTokens = usage.path("prompt_tokens");
        int prompt = promptTokens.isIntegralNumber() && promptTokens.canConvertToInt() ? promptTokens.intValue() : 0;
        String finish = choice.path("finish_reason").isTextual() ? choice.path("finish_reason").textValue() : null;
        if (finish != null && finish.length() > 32) {
            finish = finish.substring(0, 32);
        }
        return new Answer(text.textValue(), finish, Math.max(0, prompt), usage.path("completion_tokens").intValue());
    }
}
