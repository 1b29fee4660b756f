package io.earnidle.backend.openai;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.jobs.Jobs;

/**
 * The generation settings a chat or text completion request shares (docs/api.md), validated. Anything this API
 * cannot honour (several choices, log-probabilities, tools, penalties) is refused rather than ignored.
 *
 * @param model          the model id
 * @param maxTokens      {@code max_completion_tokens}, else {@code max_tokens}; null when neither was given
 * @param temperature    0..2 (0 = greedy), default 1
 * @param topP           (0, 1], default 1
 * @param seed           the sampling seed (a random one when none was given: every job has one, so that its result
 *                       can be verified)
 * @param stop           up to 4 stop strings
 * @param stream         answer as server-sent events
 * @param includeUsage   {@code stream_options.include_usage}: a last chunk carries the usage
 * @param verifiedOnly   {@code verified_only}: stream nothing before the job's result is accepted (never a node's
 *                       partial output)
 * @param user           the caller's end-user id (accepted, not stored)
 */
record GenerationParams(String model, Integer maxTokens, double temperature, double topP, long seed,
                        List<String> stop, boolean stream, boolean includeUsage, boolean verifiedOnly, String user) {
    private static final SecureRandom SEEDS = new SecureRandom();

    static GenerationParams parse(ObjectNode body, int maxTokensLimit) {
        String model = string(body, "model", true, 128);
        if (present(body, "n") && !(body.get("n").isIntegralNumber() && body.get("n").longValue() == 1)) {
            throw OpenAiError.invalid("n", "Only n = 1 is supported: one choice per request (got " + body.get("n")
                    + "); send several requests for several choices");
        }
        refuse(body, "logprobs", n -> n.isBoolean() && !n.booleanValue(), "log-probabilities are not supported");
        refuse(body, "top_logprobs", n -> false, "log-probabilities are not supported");
        refuse(body, "echo", n -> n.isBoolean() && !n.booleanValue(), "echo is not supported");
        refuse(body, "best_of", n -> n.isIntegralNumber() && n.longValue() == 1, "only best_of = 1 is supported");
        refuse(body, "suffix", n -> false, "suffix (insertion) is not supported");
        refuse(body, "tools", n -> n.isArray() && n.isEmpty(), "tools are not supported");
        refuse(body, "tool_choice", n -> n.isTextual() && n.textValue().equals("none"), "tools are not supported");
        refuse(body, "functions", n -> n.isArray() && n.isEmpty(), "functions are not supported");
        refuse(body, "function_call", n -> n.isTextual() && n.textValue().equals("none"),
                "functions are not supported");
        refuse(body, "frequency_penalty", n -> n.isNumber() && n.doubleValue() == 0, "penalties are not supported");
        refuse(body, "presence_penalty", n -> n.isNumber() && n.doubleValue() == 0, "penalties are not supported");
        refuse(body, "logit_bias", n -> n.isObject() && n.isEmpty(), "logit_bias is not supported");
        refuse(body, "response_format", n -> n.isObject() && "text".equals(n.path("type").asText()),
                "only the text response format is supported");
        refuse(body, "audio", n -> false, "audio output is not supported");
        Integer maxTokens = null;
        for (String name : List.of("max_completion_tokens", "max_tokens")) {
            if (maxTokens == null && present(body, name)) {
                maxTokens = (int) integer(body, name, 1, maxTokensLimit);
            }
        }
        double temperature = number(body, "temperature", 0, 2, 1);
        double topP = number(body, "top_p", 0, 1, 1);
        if (topP == 0) {
            throw OpenAiError.invalid("top_p", "top_p must be greater than 0 (use temperature 0 for greedy output)");
        }
        long seed = present(body, "seed") ? integer(body, "seed", -Jobs.MAX_SEED, Jobs.MAX_SEED)
                : SEEDS.nextLong(1L << 31);
        List<String> stop = stop(body);
        boolean stream = bool(body, "stream");
        boolean includeUsage = false;
        if (present(body, "stream_options")) {
            JsonNode o = body.get("stream_options");
            if (!o.isObject()) {
                throw OpenAiError.invalid("stream_options", "stream_options must be an object");
            }
            if (!stream) {
                throw OpenAiError.invalid("stream_options", "stream_options is only allowed when stream is true");
            }
            includeUsage = bool((ObjectNode) o, "include_usage");
        }
        boolean verifiedOnly = bool(body, "verified_only");
        String user = present(body, "user") ? string(body, "user", false, 256) : null;
        return new GenerationParams(model, maxTokens, temperature, topP, seed, stop, stream, includeUsage,
                verifiedOnly, user);
    }

    /** The job's sampling settings, as the nodes read them ({@code JobSpec}): whole vocabulary, no penalty. */
    ObjectNode sampling() {
        ObjectNode s = Json.object();
        s.put("temperature", temperature);
        s.put("top_k", 0);
        s.put("top_p", topP);
        s.put("seed", seed);
        if (!stop.isEmpty()) {
            ArrayNode a = s.putArray("stop");
            stop.forEach(a::add);
        }
        return s;
    }

    static boolean present(ObjectNode o, String name) {
        JsonNode n = o.get(name);
        return n != null && !n.isNull();
    }

    static String string(ObjectNode o, String name, boolean required, int maxChars) {
        JsonNode n = o.get(name);
        if (n == null || n.isNull()) {
            if (required) {
                throw OpenAiError.invalid(name, "you must provide a " + name + " parameter");
            }
            return null;
        }
        if (!n.isTextual() || n.textValue().isEmpty() || n.textValue().length() > maxChars) {
            throw OpenAiError.invalid(name, name + " must be a non-empty string of at most " + maxChars
                    + " characters");
        }
        return n.textValue();
    }

    private static long integer(ObjectNode o, String name, long min, long max) {
        JsonNode n = o.get(name);
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < min || n.longValue() > max) {
            throw OpenAiError.invalid(name, name + " must be an integer from " + min + " to " + max + ", got " + n);
        }
        return n.longValue();
    }

    private static double number(ObjectNode o, String name, double min, double max, double dflt) {
        if (!present(o, name)) {
            return dflt;
        }
        JsonNode n = o.get(name);
        if (!n.isNumber() || !(n.doubleValue() >= min && n.doubleValue() <= max)) {
            throw OpenAiError.invalid(name, name + " must be a number from " + min + " to " + max + ", got " + n);
        }
        return n.doubleValue();
    }

    private static boolean bool(ObjectNode o, String name) {
        if (!present(o, name)) {
            return false;
        }
        if (!o.get(name).isBoolean()) {
            throw OpenAiError.invalid(name, name + " must be true or false");
        }
        return o.get(name).booleanValue();
    }

    private static List<String> stop(ObjectNode body) {
        if (!present(body, "stop")) {
            return List.of();
        }
        JsonNode n = body.get("stop");
        List<String> out = new ArrayList<>();
        if (n.isTextual()) {
            out.add(n.textValue());
        } else if (n.isArray() && n.size() <= 4) {
            n.forEach(e -> out.add(e.isTextual() ? e.textValue() : ""));
        } else {
            throw OpenAiError.invalid("stop", "stop must be a string or an array of up to 4 strings");
        }
        if (out.stream().anyMatch(s -> s.isEmpty() || s.length() > 256)) {
            throw OpenAiError.invalid("stop", "each stop sequence must be a string of 1 to 256 characters");
        }
        return List.copyOf(out);
    }

    private static void refuse(ObjectNode body, String name, java.util.function.Predicate<JsonNode> harmless,
                               String why) {
        if (present(body, name) && !harmless.test(body.get(name))) {
            throw OpenAiError.invalid(name, name + ": " + why + " by this API (docs/api.md)");
        }
    }
}
