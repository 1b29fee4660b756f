package io.earnidle.backend;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Json;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.loop.JobSpec;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.Resp;

/**
 * An honest node on the JVM engine, answering over HTTP on a thread of its own: it registers on the demo placement,
 * polls {@code GET /api/inference/job} at the interval the backend suggests, downloads each job's model from its URL,
 * runs the job as the browser node does ({@code JobSpec.parse(lease).toRequest()} on {@link LlamaModel}) and posts
 * the result. A failure of the node fails the test that reads {@link #failure()}.
 */
final class JvmTestNode implements AutoCloseable {
    private final Api api;
    private final String token;
    private final long pollMillis;
    private final Map<String, LlamaModel> models = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean stopped;
    private volatile Throwable failure;
    private volatile int completed;

    JvmTestNode(Api api) {
        this.api = api;
        Resp r = api.post("/api/nodes", null, """
                {"placement_id":"demo-placement",
                 "capabilities":{"webgpu":false,"wasm_simd":true,"threads":false,"cores":2,"device_memory_gb":8},
                 "limits":{"cpu_share":1.0,"gpu":false,"memory_mb":512,"bandwidth_kbps":1000000}}""");
        if (r.status() != 201) {
            throw new AssertionError("node registration failed: " + r.text());
        }
        this.token = r.json().path("session_token").asText();
        this.pollMillis = r.json().path("poll_interval_ms").asLong(1000);
        this.thread = Thread.ofPlatform().name("jvm-test-node").daemon().start(this::run);
    }

    private void run() {
        try {
            while (!stopped) {
                Resp r = api.get("/api/inference/job", token);
                if (r.status() == 204) {
                    Thread.sleep(pollMillis);
                    continue;
                }
                if (r.status() != 200) {
                    throw new AssertionError("lease failed: " + r.text());
                }
                answer(r.json());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            failure = t;
        }
    }

    private void answer(JsonNode lease) throws Exception {
        String url = lease.path("model").path("url").asText();
        LlamaModel model = models.computeIfAbsent(url, u -> LlamaModel.load(ByteBuffer.wrap(api.get(u, null).bytes())));
        GenerationResult gen = model.generate(JobSpec.parse(lease.toString()).toRequest());
        String body = """
                {"job_id":"%s","lease_id":"%s","text":%s,"token_ids":%s,"token_count":%d,"engine":"jvm",
                 "timing":{"prefill_ms":1.0,"decode_ms":1.0}}""".formatted(lease.path("job_id").asText(),
                lease.path("lease_id").asText(), TestSupport.quote(gen.text()),
                Json.MAPPER.writeValueAsString(gen.tokenIds()), gen.tokenIds().length);
        Resp r = api.result(token, body, UUID.randomUUID().toString());
        if (r.status() != 200) {
            throw new AssertionError("result refused: " + r.text());
        }
        completed++;
    }

    /** Jobs this node answered. */
    int completed() {
        return completed;
    }

    /** What stopped the node, or null. */
    Throwable failure() {
        return failure;
    }

    @Override
    public void close() throws InterruptedException {
        stopped = true;
        thread.interrupt();
        thread.join();
    }
}
