package io.earnidle.backend.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.models.ModelCatalog;

/** {@code POST /v1/completions}: one text prompt (or its token ids), continued by a job. */
final class CompletionService extends CompletionEndpoint {
    CompletionService(OpenAiApi api) {
        super(api, "cmpl-", "text_completion", "text_completion", "prompt");
    }

    @Override
    public int[] promptIds(ObjectNode body, ModelCatalog.Entry model) {
        JsonNode prompt = body.get("prompt");
        if (prompt != null && prompt.isArray() && prompt.size() == 1 && prompt.get(0).isTextual()) {
            prompt = prompt.get(0);
        }
        boolean ids = prompt != null && prompt.isArray() && !prompt.isEmpty()
                && prompt.get(0).isIntegralNumber();
        if (prompt == null || !(prompt.isTextual() && !prompt.textValue().isEmpty() || ids)) {
            throw OpenAiError.invalid("prompt", "prompt must be a non-empty string, or an array of token ids "
                    + "(one prompt per request)");
        }
        if (prompt.isTextual() && prompt.textValue().length() > api.settings().maxPromptChars()) {
            throw OpenAiError.invalid("prompt", "prompt must be at most " + api.settings().maxPromptChars()
                    + " characters");
        }
        return prompt.isTextual() ? api.prompts().text(model, prompt.textValue())
                : tokenIds(prompt, model.model().vocabSize());
    }

    private static int[] tokenIds(JsonNode arr, int vocab) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = arr.get(i);
            if (!e.isIntegralNumber() || e.longValue() < 0 || e.longValue() >= vocab) {
                throw OpenAiError.invalid("prompt", "prompt[" + i + "] must be a token id in [0, " + vocab
                        + "), got " + e);
            }
            out[i] = e.intValue();
        }
        return out;
    }

    @Override
    public ObjectNode choice(String text, String finishReason) {
        ObjectNode c = Json.object();
        c.put("text", text);
        c.put("index", 0);
        c.putNull("logprobs");
        c.put("finish_reason", finishReason);
        return c;
    }

    @Override
    public ObjectNode chunkChoice(String text, String finishReason, boolean first) {
        return choice(text, finishReason);
    }
}
