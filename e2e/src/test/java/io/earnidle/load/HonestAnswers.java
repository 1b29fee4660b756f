package io.earnidle.load;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.loop.JobSpec;

/**
 * What an honest node answers to a lease: the job run as the browser node runs it ({@code JobSpec.parse(lease)
 * .toRequest()} on the JVM engine's {@link LlamaModel}), on the model downloaded once from the lease's URL. The
 * simulated nodes share one engine: a job's answer is a pure function of the lease's model, prompt, sampling and
 * max_tokens, so a job equal to one already run gets the same generation without running it again (what makes a
 * simulated node's answer cost microseconds). Such an answer is marked not {@link Answer#ran ran}: its node reports it
 * at its own speed ({@link DeviceSpeed}), not at the speed of the run that made it.
 */
final class HonestAnswers {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int WARM_UP_RUNS = 100;

    /**
     * One generation: its prompt's length in tokens, and the time it took; {@code ran} when this call ran it, false
     * when it was an earlier call's.
     */
    record Answer(String text, int[] tokenIds, int promptTokens, double prefillMs, double decodeMs, boolean ran) {
        /**
         * This answer with the time it takes at {@code prefillMsPerToken} and {@code decodeMsPerStep} (a step for each
         * token after the first).
         */
        Answer at(double prefillMsPerToken, double decodeMsPerStep) {
            return new Answer(text, tokenIds, promptTokens, prefillMsPerToken * promptTokens,
                    decodeMsPerStep * Math.max(0, tokenIds.length - 1), ran);
        }
    }

    private final LoadClient client;
    private final Map<String, LlamaModel> models = new ConcurrentHashMap<>();
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();

    HonestAnswers(LoadClient client) {
        this.client = client;
    }

    Answer answer(JsonNode lease) {
        ObjectNode key = ((ObjectNode) lease).deepCopy();
        key.remove("job_id");
        key.remove("lease_id");
        key.remove("lease_expires_at");
        String k = key.toString();
        Answer earlier = answers.get(k);
        if (earlier != null) {
            return earlier;
        }
        Answer ran = run(lease); // two nodes with the same new job may both run it: each reports its own run
        Answer kept = new Answer(ran.text(), ran.tokenIds(), ran.promptTokens(), ran.prefillMs(), ran.decodeMs(),
                false);
        answers.putIfAbsent(k, kept);
        return ran;
    }

    private Answer run(JsonNode lease) {
        String url = lease.path("model").path("url").asText();
        LlamaModel model = models.computeIfAbsent(url, this::download);
        GenerationRequest request = JobSpec.parse(lease.toString()).toRequest();
        GenerationResult gen;
        synchronized (model) { // one generation at a time per model, as one engine runs them
            gen = model.generate(request);
        }
        return new Answer(gen.text(), gen.tokenIds(), model.promptIds(request).length, gen.prefillMs(),
                gen.decodeMs(), true);
    }

    /**
     * Downloads {@code modelId} (from {@code GET /api/models}) and runs a job of {@code maxTokens} on it
     * {@link #WARM_UP_RUNS} times, before any node registers: a browser node's engine is compiled ahead of time, the
     * JVM engine is not, and timings measured while the JIT compiles it would make the node's later (warm) timings
     * look implausibly fast against its benchmark (docs/trust.md "timing plausibility").
     */
    void prepare(String modelId, int maxTokens) throws java.io.IOException, InterruptedException {
        LoadClient.Response r = client.get("/api/models", null);
        JsonNode model = null;
        for (JsonNode m : MAPPER.readTree(r.body()).path("models")) {
            if (modelId.equals(m.path("id").asText())) {
                model = m;
            }
        }
        if (model == null) {
            throw new IllegalStateException("the backend serves no model " + modelId + ": " + r.text());
        }
        ObjectNode job = MAPPER.createObjectNode();
        job.put("job_id", "warm-up");
        job.put("lease_id", "warm-up");
        job.set("model", model);
        job.put("prompt", "warm up");
        job.putNull("prompt_ids");
        job.put("add_bos", true);
        job.putObject("sampling").put("temperature", 0).put("seed", 1);
        job.put("max_tokens", maxTokens);
        LlamaModel engine = models.computeIfAbsent(model.path("url").asText(), this::download);
        for (int i = 0; i < WARM_UP_RUNS; i++) {
            engine.generate(JobSpec.parse(job.toString()).toRequest());
        }
    }

    private LlamaModel download(String url) {
        try {
            LoadClient.Response r = client.get(url, null);
            if (r.status() != 200) {
                throw new IllegalStateException("model download " + url + ": HTTP " + r.status());
            }
            return LlamaModel.load(ByteBuffer.wrap(r.body()));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("model download " + url, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The result body of {@code lease} answered with {@code a}. */
    static String resultBody(JsonNode lease, Answer a) {
        try {
            ObjectNode body = MAPPER.createObjectNode();
            body.put("job_id", lease.path("job_id").asText());
            body.put("lease_id", lease.path("lease_id").asText());
            body.put("text", a.text());
            body.set("token_ids", MAPPER.valueToTree(a.tokenIds()));
            body.put("token_count", a.tokenIds().length);
            body.put("engine", "jvm");
            ObjectNode timing = body.putObject("timing");
            timing.put("prefill_ms", a.prefillMs());
            timing.put("decode_ms", a.decodeMs());
            return MAPPER.writeValueAsString(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
