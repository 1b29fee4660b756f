package io.earnidle.node.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Runs one inference request in headless Chromium (the wasm and webgpu engines): a loopback HttpServer serves the
 * classpath {@code web/node} and {@code web/kernels} folders and the model file, all with COOP/COEP so the page is
 * cross-origin isolated (SIMD threads), Chromium opens {@code /node/infer.html}, whose worker runs the TeaVM node's
 * engine code and POSTs the result JSON back. No WebDriver: a plain process with a temporary profile.
 */
public final class BrowserInfer {
    /**
     * The project's headless Chromium flags: this package's resource {@code chromium-flags.txt}, one flag per line
     * (# comments), the one list that test-support's ChromiumFlags and e2e/bench/lib/chromium.mjs read too.
     */
    public static final List<String> FLAGS = readFlags();

    private BrowserInfer() {
    }

    private static List<String> readFlags() {
        try (InputStream in = BrowserInfer.class.getResourceAsStream("chromium-flags.txt")) {
            if (in == null) {
                throw new IllegalStateException("io/earnidle/node/cli/chromium-flags.txt is not on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The Chromium binary: $CHROME_BIN, else /usr/bin/chromium; a clear error when neither exists. */
    public static Path chromium() throws IOException {
        String env = System.getenv("CHROME_BIN");
        Path p = Path.of(env != null && !env.isBlank() ? env : "/usr/bin/chromium");
        if (!Files.isExecutable(p)) {
            throw new IOException("the wasm and webgpu engines run in headless Chromium, but " + p + " is missing "
                    + "(install the Debian package 'chromium' or set CHROME_BIN)");
        }
        return p;
    }

    /**
     * Runs {@code requestJson} (InferEntry's request; {@code model_url} is set here) against {@code model}; returns
     * the result JSON text (an object, with "error" when the browser side failed).
     */
    public static String run(Path model, String requestJsonWithoutModel, long timeoutSeconds) throws IOException {
        Path chrome = chromium();
        requireKernels();
        String request = requestJsonWithoutModel.substring(0, requestJsonWithoutModel.lastIndexOf('}'))
                + (requestJsonWithoutModel.trim().equals("{}") ? "" : ",") + "\"model_url\":\"/model.gguf\"}";
        CompletableFuture<String> result = new CompletableFuture<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        server.setExecutor(pool);
        server.createContext("/", ex -> {
            try (ex) {
                serve(ex, model, request, result);
            } catch (IOException | RuntimeException e) {
                // the browser went away mid-response; the result (or the timeout) decides
            }
        });
        server.start();
        try (Browser browser = Browser.open(chrome, "http://127.0.0.1:" + server.getAddress().getPort() + "/node/infer.html")) {
            Process proc = browser.process();
            proc.onExit().thenRun(() -> result.completeExceptionally(
                    new IOException("Chromium exited with status " + proc.exitValue() + " before the result came")));
            try {
                return result.get(timeoutSeconds, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new IOException("no result from the browser within " + timeoutSeconds + " s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            } catch (java.util.concurrent.ExecutionException e) {
                String log = browser.logTail(2000);
                throw new IOException(e.getCause().getMessage() + (log.isBlank() ? "" : "; Chromium said: " + log));
            }
        } finally {
            server.stop(0);
            pool.shutdownNow();
        }
    }

    /**
     * Headless Chromium ({@link #FLAGS}, plus the space-separated {@code EARNIDLE_CHROMIUM_EXTRA_FLAGS}, e.g. a hardware
     * WebGPU adapter on a GPU machine) with a fresh temporary profile, opened on one URL. Closing it kills the browser
     * and its children and deletes the profile; so does a SIGTERM of this JVM (the bench's per-run timeout).
     */
    public static final class Browser implements AutoCloseable {
        private final Process process;
        private final Path profile;
        private final Thread reaper;

        private Browser(Process process, Path profile) {
            this.process = process;
            this.profile = profile;
            this.reaper = new Thread(() -> {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            });
            Runtime.getRuntime().addShutdownHook(reaper);
        }

        public static Browser open(Path chrome, String url) throws IOException {
            Path profile = Files.createTempDirectory("earnidle-chromium-");
            List<String> cmd = new ArrayList<>();
            cmd.add(chrome.toString());
            cmd.addAll(FLAGS);
            String extra = System.getenv("EARNIDLE_CHROMIUM_EXTRA_FLAGS");
            if (extra != null && !extra.isBlank()) {
                cmd.addAll(List.of(extra.trim().split("\\s+")));
            }
            cmd.add("--user-data-dir=" + profile);
            cmd.add(url);
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(profile.resolve("chromium.log").toFile());
                // Chromium's temporary files (its single-instance socket folder, which a killed browser leaves
                // behind) go inside the profile, deleted with it
                pb.environment().put("TMPDIR", profile.toString());
                return new Browser(pb.start(), profile);
            } catch (IOException e) {
                deleteTree(profile);
                throw e;
            }
        }

        public Process process() {
            return process;
        }

        /** The last {@code chars} characters of Chromium's output ("" when there is none). */
        public String logTail(int chars) {
            try {
                String log = Files.readString(profile.resolve("chromium.log"));
                return log.substring(Math.max(0, log.length() - chars));
            } catch (IOException e) {
                return "";
            }
        }

        @Override
        public void close() {
            reaper.run();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException ignored) {
                // already shutting down
            }
            deleteTree(profile);
        }
    }

    private static void requireKernels() throws IOException {
        if (resource("web/kernels/simd/simd-kernels.js") == null || resource("web/node/app.wasm") == null) {
            throw new IOException("web/node (browser-node jar) and web/kernels (webgpu-kernels jar) must be on the class "
                    + "path, or set EARNIDLE_KERNELS_DIR to a folder holding the kernels (webgpu-kernels/target/classes/web/kernels)");
        }
    }

    /** A classpath web file, or (kernels) a file under $EARNIDLE_KERNELS_DIR / webgpu-kernels/target/classes. */
    public static URL resource(String path) throws IOException {
        URL u = BrowserInfer.class.getClassLoader().getResource(path);
        if (u != null || !path.startsWith("web/kernels/")) {
            return u;
        }
        String env = System.getenv("EARNIDLE_KERNELS_DIR");
        Path dir = env != null && !env.isBlank() ? Path.of(env) : Path.of("webgpu-kernels/target/classes/web/kernels");
        Path f = dir.resolve(path.substring("web/kernels/".length())).normalize();
        return f.startsWith(dir.normalize()) && Files.isRegularFile(f) ? f.toUri().toURL() : null;
    }

    /** Content-Type plus the COOP/COEP/CORP headers that make the page cross-origin isolated (wasm threads). */
    public static void headers(HttpExchange ex, String type) {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cross-Origin-Opener-Policy", "same-origin");
        ex.getResponseHeaders().set("Cross-Origin-Embedder-Policy", "require-corp");
        ex.getResponseHeaders().set("Cross-Origin-Resource-Policy", "same-origin");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
    }

    /** Content types of the served web files, by extension. */
    public static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "mjs", "text/javascript; charset=utf-8", "wasm", "application/wasm",
            "wgsl", "text/plain; charset=utf-8", "json", "application/json");

    private static void serve(HttpExchange ex, Path model, String request, CompletableFuture<String> result)
            throws IOException {
        String path = ex.getRequestURI().getPath();
        if (path.equals("/infer/result") && ex.getRequestMethod().equals("POST")) {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            headers(ex, "text/plain");
            ex.sendResponseHeaders(204, -1);
            result.complete(body);
            return;
        }
        if (path.equals("/infer/request")) {
            byte[] b = request.getBytes(StandardCharsets.UTF_8);
            headers(ex, "application/json");
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            return;
        }
        if (path.equals("/model.gguf")) {
            headers(ex, "application/octet-stream");
            ex.sendResponseHeaders(200, Files.size(model));
            try (InputStream in = Files.newInputStream(model); OutputStream out = ex.getResponseBody()) {
                in.transferTo(out);
            }
            return;
        }
        URL u = null;
        if ((path.startsWith("/node/") || path.startsWith("/kernels/")) && !path.contains("..")) {
            u = resource("web" + path);
        }
        if (u == null) {
            headers(ex, "text/plain");
            ex.sendResponseHeaders(404, -1);
            return;
        }
        String ext = path.substring(path.lastIndexOf('.') + 1);
        byte[] b;
        try (InputStream in = u.openStream()) {
            b = in.readAllBytes();
        }
        headers(ex, TYPES.getOrDefault(ext, "application/octet-stream"));
        ex.sendResponseHeaders(200, b.length);
        ex.getResponseBody().write(b);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
