package io.earnidle.node.browser;

import com.sun.net.httpserver.HttpExchange;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.loop.Json;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.testsupport.LoopbackServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs the real TeaVM (WebAssembly GC) build in headless Chromium against a stub of the three node endpoints and
 * checks that the submitted token ids equal the JVM's greedy generation for the same model and prompt.
 */
class BrowserNodeTest {
    static final String PROMPT = "Hello world, this is the test.";
    static final int MAX_TOKENS = 12;

    private LoopbackServer server;
    private ChromeDriver driver;
    private Path userDataDir;
    private final CompletableFuture<Map<String, Object>> submitted = new CompletableFuture<>();
    private final CompletableFuture<String> idempotencyKey = new CompletableFuture<>();
    private final AtomicInteger polls = new AtomicInteger();
    private byte[] model;

    static final String PAGE = """
            <!doctype html><html><head><meta charset="utf-8"><title>node test</title></head><body><script>
            window.statuses = [];
            window.nodeWorker = new Worker("/node/node-worker.js");
            nodeWorker.onmessage = function (e) { statuses.push(e.data); };
            nodeWorker.onerror = function (e) { statuses.push({type: "worker-error", message: String(e.message)}); };
            nodeWorker.postMessage({type: "start", apiBase: location.origin, placementId: "test-placement",
              capabilities: {webgpu: false, wasm_simd: true, threads: false, cores: 2, device_memory_gb: 8},
              limits: {cpu_share: 0.5, gpu: false, memory_mb: 512, bandwidth_kbps: 256}});
            </script></body></html>
            """;

    @BeforeEach
    void startServer() throws Exception {
        model = ModelSynthesizer.tinyBytes(2024);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(model));
        server = LoopbackServer.start(ex -> {
            try (ex) {
                String path = ex.getRequestURI().getPath();
                String method = ex.getRequestMethod();
                if (path.equals("/index.html")) {
                    send(ex, 200, "text/html; charset=utf-8", PAGE.getBytes(StandardCharsets.UTF_8));
                } else if (path.startsWith("/node/") && !path.contains("..")) {
                    try (InputStream in = getClass().getClassLoader().getResourceAsStream("web" + path)) {
                        if (in == null) {
                            send(ex, 404, "text/plain", "missing".getBytes());
                            return;
                        }
                        send(ex, 200, path.endsWith(".wasm") ? "application/wasm" : "text/javascript", in.readAllBytes());
                    }
                } else if (path.equals("/models/tiny.gguf")) {
                    send(ex, 200, "application/octet-stream", model);
                } else if (path.equals("/api/nodes") && method.equals("POST")) {
                    Map<String, Object> reg = Json.obj(Json.parse(body(ex)), "registration");
                    assertEquals("test-placement", reg.get("placement_id"));
                    send(ex, 201, "application/json", ("{\"session_id\":\"ns_test\",\"session_token\":\"nst_secret\","
                            + "\"placement_id\":\"test-placement\",\"poll_interval_ms\":200}").getBytes());
                } else if (path.equals("/api/inference/job") && method.equals("GET")) {
                    if (!"Bearer nst_secret".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                        send(ex, 401, "application/problem+json", "{}".getBytes());
                    } else if (polls.incrementAndGet() == 2) {
                        send(ex, 200, "application/json", ("{\"job_id\":\"job_b1\",\"lease_id\":\"lease_b1\","
                                + "\"lease_expires_at\":\"2030-01-01T00:00:00Z\",\"model\":{\"id\":\"synthetic-tiny-f32\","
                                + "\"url\":\"/models/tiny.gguf\",\"sha256\":\"" + sha + "\",\"size_bytes\":" + model.length
                                + "},\"prompt\":" + Json.write(PROMPT) + ",\"prompt_ids\":null,\"add_bos\":true,"
                                + "\"sampling\":{\"temperature\":0.0,\"top_k\":40,\"top_p\":0.95,\"seed\":42},"
                                + "\"max_tokens\":" + MAX_TOKENS + "}").getBytes(StandardCharsets.UTF_8));
                    } else {
                        ex.sendResponseHeaders(204, -1);
                    }
                } else if (path.equals("/api/inference/result") && method.equals("POST")) {
                    String key = ex.getRequestHeaders().getFirst("Idempotency-Key");
                    String auth = ex.getRequestHeaders().getFirst("Authorization");
                    Map<String, Object> result = Json.obj(Json.parse(body(ex)), "result");
                    if (key != null && "Bearer nst_secret".equals(auth)) {
                        idempotencyKey.complete(key);
                        submitted.complete(result);
                    }
                    send(ex, 200, "application/json", ("{\"job_id\":\"job_b1\",\"status\":\"accepted\","
                            + "\"payout_micro_usdc\":1130,\"balance_micro_usdc\":1130}").getBytes());
                } else {
                    send(ex, 404, "text/plain", "not found".getBytes());
                }
            } catch (RuntimeException | Error e) {
                submitted.completeExceptionally(e);
                throw e;
            }
        });
    }

    private static String body(HttpExchange ex) throws IOException {
        return NodeStub.body(ex);
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        NodeStub.send(ex, status, type, body);
    }

    private ChromeDriver startChrome() throws IOException {
        userDataDir = Files.createTempDirectory("browser-node-chrome");
        return NodeStub.startChrome(userDataDir);
    }

    @AfterEach
    void stop() throws IOException {
        if (driver != null) {
            driver.quit();
        }
        if (server != null) {
            server.close();
        }
        if (userDataDir != null) {
            try (Stream<Path> s = Files.walk(userDataDir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> statuses() {
        return (List<Map<String, Object>>) ((JavascriptExecutor) driver).executeScript("return window.statuses;");
    }

    @Test
    void wasmNodeComputesTheSameTokensAsTheJvm() throws Exception {
        GenerationResult jvm = LlamaModel.load(ByteBuffer.wrap(model))
                .generate(new GenerationRequest(PROMPT, null, true, MAX_TOKENS, Sampling.greedy()));

        driver = startChrome();
        driver.get(server.origin() + "/index.html");
        Map<String, Object> result;
        try {
            result = submitted.get(120, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            fail("no result submitted; worker statuses: " + statuses());
            return;
        }
        assertEquals("job_b1", result.get("job_id"));
        assertEquals("lease_b1", result.get("lease_id"));
        assertEquals("jvm-wasm-gc", result.get("engine"));
        List<?> ids = (List<?>) result.get("token_ids");
        int[] wasm = ids.stream().mapToInt(o -> ((Number) o).intValue()).toArray();
        assertArrayEquals(jvm.tokenIds(), wasm, "wasm token ids must equal the JVM's");
        assertEquals(jvm.text(), result.get("text"));
        assertEquals((double) wasm.length, result.get("token_count"));
        Map<?, ?> timing = (Map<?, ?>) result.get("timing");
        assertTrue(((Number) timing.get("prefill_ms")).doubleValue() >= 0);
        assertTrue(((Number) timing.get("decode_ms")).doubleValue() >= 0);
        assertTrue(idempotencyKey.get().matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
                idempotencyKey.get());

        // status messages follow the contract; after the accepted result the node reports the payout
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline
                && statuses().stream().noneMatch(s -> Long.valueOf(1).equals(num(s.get("jobs_completed"))))) {
            Thread.sleep(100);
        }
        List<Map<String, Object>> st = statuses();
        List<Object> states = st.stream().map(s -> s.get("state")).toList();
        assertTrue(states.containsAll(List.of("registering", "idle", "downloading", "running", "submitting")), states.toString());
        Map<String, Object> done = st.stream().filter(s -> Long.valueOf(1).equals(num(s.get("jobs_completed"))))
                .findFirst().orElseThrow(() -> new AssertionError(st.toString()));
        assertEquals("status", done.get("type"));
        assertEquals("ns_test", done.get("session_id"));
        assertEquals(1130L, num(done.get("last_payout_micro_usdc")));
        assertEquals(1130L, num(done.get("balance_micro_usdc")));
        assertEquals("jvm-wasm-gc", done.get("engine"));

        // pause stops polling; the node reports it
        ((JavascriptExecutor) driver).executeScript("nodeWorker.postMessage({type: 'pause'});");
        deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline && !"paused".equals(last(statuses()).get("state"))) {
            Thread.sleep(100);
        }
        assertEquals("paused", last(statuses()).get("state"));
        int pollsWhenPaused = polls.get();
        Thread.sleep(1500);
        assertEquals(pollsWhenPaused, polls.get(), "no polling while paused");
    }

    private static Long num(Object o) {
        return o instanceof Number n ? n.longValue() : null;
    }

    private static Map<String, Object> last(List<Map<String, Object>> l) {
        return l.isEmpty() ? Map.of() : l.get(l.size() - 1);
    }
}
