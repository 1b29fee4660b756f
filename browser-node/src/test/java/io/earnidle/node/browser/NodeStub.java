package io.earnidle.node.browser;

import com.sun.net.httpserver.HttpExchange;
import io.earnidle.node.loop.Json;
import io.earnidle.testsupport.LoopbackServer;
import io.earnidle.testsupport.SeleniumChromium;
import org.openqa.selenium.chrome.ChromeDriver;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A loopback stub of the backend endpoints the node uses (register, poll, submit, counters, model files with Range),
 * serving the node's web files from the classpath, a test page that drives the worker, and a worker wrapper that
 * spies on {@code navigator.gpu.requestAdapter}; plus headless Chromium per the conventions.
 */
final class NodeStub implements AutoCloseable {
    /** The page: {@code startNode(workerUrl, startMessage)}, {@code send(msg)}; statuses and sends time-stamped. */
    static final String PAGE = """
            <!doctype html><html><head><meta charset="utf-8"><title>node test</title></head><body><script>
            window.statuses = []; window.sent = []; window.gpuSpy = [];
            window.startNode = function (workerUrl, start) {
              window.nodeWorker = new Worker(workerUrl);
              nodeWorker.onmessage = function (e) {
                var d = e.data || {};
                if (d.type === "gpu-spy") { gpuSpy.push(d.what); return; }
                d.t = performance.now();
                statuses.push(d);
              };
              nodeWorker.onerror = function (e) { statuses.push({type: "worker-error", message: String(e.message)}); };
              send(start);
            };
            window.send = function (m) { sent.push({type: m.type, t: performance.now()}); nodeWorker.postMessage(m); };
            </script></body></html>
            """;

    /** Wraps node-worker.js: reports every WebGPU adapter request to the page, then runs the real worker. */
    static final String SPY_WORKER = """
            (function () {
              var g = self.navigator && self.navigator.gpu;
              if (!g) { self.postMessage({type: "gpu-spy", what: "no navigator.gpu"}); return; }
              var orig = g.requestAdapter.bind(g);
              g.requestAdapter = function (o) { self.postMessage({type: "gpu-spy", what: "requestAdapter"}); return orig(o); };
            })();
            importScripts("node-worker.js");
            """;

    record Result(long atMs, String idempotencyKey, Map<String, Object> body) {
    }

    final LoopbackServer server;
    final Map<String, byte[]> models = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> modelGets = new ConcurrentHashMap<>();
    final List<Map<String, Object>> registrations = Collections.synchronizedList(new ArrayList<>());
    final List<Result> results = Collections.synchronizedList(new ArrayList<>());
    final List<Long> pollTimes = Collections.synchronizedList(new ArrayList<>());
    final ConcurrentLinkedQueue<String> jobs = new ConcurrentLinkedQueue<>();
    /** When set, every poll with an empty queue gets this job (a queue that never runs dry). */
    volatile String repeatJob;
    /** Model files are written 32 KiB at a time with a short pause, so the browser sees several chunks. */
    volatile boolean servePaced;
    /** The pace of {@link #servePaced} (bytes per ms): 32 KiB every 3 ms unless a test sets another. */
    volatile double pacedBytesPerMs = 32_768 / 3.0;
    /**
     * Serve {@code /kernels/} (the WASM-SIMD module and the WebGPU runner, from the classpath) as the backend does;
     * off, the accelerated engines cannot load and the node falls back to the pure-Java engine.
     */
    volatile boolean serveKernels;
    final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private ChromeDriver driver;
    private Path userDataDir;

    NodeStub() throws IOException {
        server = LoopbackServer.start("127.0.0.1", 4, ex -> {
            try (ex) {
                handle(ex);
            } catch (RuntimeException | Error | IOException e) {
                failures.add(e);
                throw e;
            }
        });
    }

    String origin() {
        return server.origin();
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A job for model file {@code /models/<modelId>.gguf} (registered with {@link #models}). */
    String job(String jobId, String modelId, String prompt, int maxTokens) {
        byte[] m = models.get(modelId + ".gguf");
        return "{\"job_id\":\"" + jobId + "\",\"lease_id\":\"lease_" + jobId + "\","
                + "\"lease_expires_at\":\"2030-01-01T00:00:00Z\",\"model\":{\"id\":\"" + modelId + "\","
                + "\"url\":\"/models/" + modelId + ".gguf\",\"sha256\":\"" + sha256(m) + "\",\"size_bytes\":" + m.length
                + "},\"prompt\":" + Json.write(prompt) + ",\"prompt_ids\":null,\"add_bos\":true,"
                + "\"sampling\":{\"temperature\":0.0,\"top_k\":40,\"top_p\":0.95,\"seed\":42},\"max_tokens\":" + maxTokens + "}";
    }

    int modelGets(String file) {
        AtomicInteger n = modelGets.get(file);
        return n == null ? 0 : n.get();
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (path.equals("/index.html")) {
            send(ex, 200, "text/html; charset=utf-8", PAGE.getBytes(StandardCharsets.UTF_8));
        } else if (path.equals("/node/spy-worker.js")) {
            send(ex, 200, "text/javascript", SPY_WORKER.getBytes(StandardCharsets.UTF_8));
        } else if ((path.startsWith("/node/") || serveKernels && path.startsWith("/kernels/")) && !path.contains("..")) {
            try (InputStream in = getClass().getClassLoader().getResourceAsStream("web" + path)) {
                if (in == null) {
                    send(ex, 404, "text/plain", "missing".getBytes());
                    return;
                }
                send(ex, 200, path.endsWith(".wasm") ? "application/wasm" : "text/javascript", in.readAllBytes());
            }
        } else if (path.startsWith("/models/") && models.containsKey(path.substring(8))) {
            String file = path.substring(8);
            modelGets.computeIfAbsent(file, k -> new AtomicInteger()).incrementAndGet();
            byte[] m = models.get(file);
            String range = ex.getRequestHeaders().getFirst("Range");
            if (range != null && range.matches("bytes=\\d+-")) {
                int from = Integer.parseInt(range.substring(6, range.length() - 1));
                if (from >= m.length) {
                    ex.getResponseHeaders().set("Content-Range", "bytes */" + m.length);
                    ex.sendResponseHeaders(416, -1);
                    return;
                }
                ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (m.length - 1) + "/" + m.length);
                ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
                ex.sendResponseHeaders(206, m.length - from);
                ex.getResponseBody().write(m, from, m.length - from);
            } else if (servePaced) {
                ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
                ex.sendResponseHeaders(200, m.length);
                for (int off = 0; off < m.length; off += 32_768) {
                    ex.getResponseBody().write(m, off, Math.min(32_768, m.length - off));
                    ex.getResponseBody().flush();
                    try {
                        Thread.sleep(Math.round(32_768 / pacedBytesPerMs));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException(e);
                    }
                }
            } else {
                send(ex, 200, "application/octet-stream", m);
            }
        } else if (path.equals("/api/nodes") && method.equals("POST")) {
            registrations.add(Json.obj(Json.parse(body(ex)), "registration"));
            send(ex, 201, "application/json", ("{\"session_id\":\"ns_test\",\"session_token\":\"nst_secret\","
                    + "\"placement_id\":\"test-placement\",\"poll_interval_ms\":200}").getBytes());
        } else if (!"Bearer nst_secret".equals(auth) && path.startsWith("/api/")) {
            send(ex, 401, "application/problem+json", "{}".getBytes());
        } else if (path.equals("/api/inference/job") && method.equals("GET")) {
            pollTimes.add(System.currentTimeMillis());
            String job = jobs.poll();
            if (job == null) {
                job = repeatJob;
            }
            if (job == null) {
                ex.sendResponseHeaders(204, -1);
            } else {
                send(ex, 200, "application/json", job.getBytes(StandardCharsets.UTF_8));
            }
        } else if (path.equals("/api/inference/result") && method.equals("POST")) {
            Map<String, Object> result = Json.obj(Json.parse(body(ex)), "result");
            results.add(new Result(System.currentTimeMillis(), ex.getRequestHeaders().getFirst("Idempotency-Key"),
                    result));
            int n = results.size();
            send(ex, 200, "application/json", ("{\"job_id\":" + Json.write(result.get("job_id"))
                    + ",\"status\":\"accepted\",\"payout_micro_usdc\":1130,\"balance_micro_usdc\":" + (1130 * n)
                    + ",\"pending_micro_usdc\":" + (70 * n) + "}").getBytes());
        } else if (path.equals("/api/nodes/me") && method.equals("GET")) {
            int n = results.size();
            send(ex, 200, "application/json", ("{\"session_id\":\"ns_test\",\"placement_id\":\"test-placement\","
                    + "\"jobs_completed\":" + n + ",\"balance_micro_usdc\":" + (1200 * n) + ",\"pending_micro_usdc\":0}")
                    .getBytes());
        } else {
            send(ex, 404, "text/plain", "not found".getBytes());
        }
    }

    static String body(HttpExchange ex) throws IOException {
        return new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    }

    static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
    }

    /** Headless Chromium with the project's flags and a fresh profile (kept across page loads of one test). */
    ChromeDriver chrome() throws IOException {
        if (driver != null) {
            return driver;
        }
        userDataDir = Files.createTempDirectory("browser-node-chrome");
        driver = startChrome(userDataDir);
        return driver;
    }

    static ChromeDriver startChrome(Path userDataDir) {
        return SeleniumChromium.start(userDataDir);
    }

    /** The statuses the page received from the worker so far (each with the page's receive time {@code t}). */
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> statuses() {
        return new ArrayList<>((List<Map<String, Object>>) driver.executeScript("return window.statuses;"));
    }

    List<Map<String, Object>> lastStatuses(int n) {
        List<Map<String, Object>> st = statuses();
        return st.subList(Math.max(0, st.size() - n), st.size());
    }

    /** The first status matching {@code p}, waiting up to {@code timeoutMs}; fails on a worker error or timeout. */
    Map<String, Object> awaitStatus(long timeoutMs, String what, java.util.function.Predicate<Map<String, Object>> p)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            for (Map<String, Object> s : statuses()) {
                if ("worker-error".equals(s.get("type"))) {
                    org.junit.jupiter.api.Assertions.fail("worker error: " + s);
                }
                if (p.test(s)) {
                    return s;
                }
            }
            Thread.sleep(50);
        }
        return org.junit.jupiter.api.Assertions.fail("no status " + what + " in " + timeoutMs + " ms; last: "
                + lastStatuses(4));
    }

    Path userDataDir() {
        return userDataDir;
    }

    @Override
    public void close() throws IOException {
        try {
            if (driver != null) {
                driver.quit();
            }
        } finally {
            server.close();
            if (userDataDir != null) {
                try (Stream<Path> s = Files.walk(userDataDir)) {
                    s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }
}
