package io.earnidle.backend.openai;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.models.ModelCatalog;
import io.earnidle.node.tokenizer.ChatMessage;

/** {@code POST /v1/chat/completions}: messages rendered with the model's chat template, answered by a job. */
final class ChatCompletionService extends CompletionEndpoint {
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant");
    ChatCompletionService(OpenAiApi api) {
        super(api, "chatcmpl-", "chat.completion", "chat.completion.chunk", "messages");
    }

    @Override
    public int[] promptIds(ObjectNode body, ModelCatalog.Entry model) {
        return api.prompts().chat(model, messages(body), api.jobs().ledger().now());
    }

    /** The messages: text content only (a string, or an array of text parts); {@code developer} is a system turn. */
    static List<ChatMessage> messages(ObjectNode body) {
        JsonNode arr = body.get("messages");
        if (arr == null || !arr.isArray() || arr.isEmpty()) {
            throw OpenAiError.invalid("messages", "messages must be a non-empty array");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) {
            String param = "messages[" + i + "]";
            JsonNode m = arr.get(i);
            String role = m.path("role").asText("");
            if (!m.isObject() || !ROLES.contains(role)) {
                throw OpenAiError.invalid(param + ".role", "each message needs a role: system, developer, user "
                        + "or assistant (tools are not supported), got " + m.path("role"));
            }
            out.add(new ChatMessage(role.equals("developer") ? "system" : role, content(m.get("content"), param)));
        }
        return out;
    }

    private static String content(JsonNode c, String param) {
        if (c != null && c.isTextual()) {
            return c.textValue();
        }
        if (c != null && c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw OpenAiError.invalid(param + ".content", "only text content parts are supported");
                }
                sb.append(part.get("text").textValue());
            }
            return sb.toString();
        }
        throw OpenAiError.invalid(param + ".content", "content must be a string or an array of text parts");
    }

    @Override
    public ObjectNode choice(String text, String finishReason) {
        ObjectNode c = Json.object();
        c.put("index", 0);
        ObjectNode m = c.putObject("message");
        m.put("role", "assistant");
        m.put("content", text);
        m.putNull("refusal");
        c.putNull("logprobs");
        c.put("finish_reason", finishReason);
        return c;
    }

    @Override
    public ObjectNode chunkChoice(String text, String finishReason, boolean first) {
        ObjectNode c = Json.object();
        c.put("index", 0);
        ObjectNode d = c.putObject("delta");
        if (first) {
            d.put("role", "assistant");
        }
        if (finishReason == null) {
            d.put("content", text);
        }
        c.putNull("logprobs");
        c.put("finish_reason", finishReason);
        return c;
    }
}
