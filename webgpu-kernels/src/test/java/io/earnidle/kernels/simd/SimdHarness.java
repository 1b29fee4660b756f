package io.earnidle.kernels.simd;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Test fixture for the WASM SIMD kernels: an HTTP server on 127.0.0.1 (ephemeral port) serving classpath
 * {@code web/} with COOP/COEP headers, so pages are cross-origin isolated (SharedArrayBuffer, shared wasm
 * memory, Worker threads), and a headless Chromium driven by selenium. Closing stops both and deletes the
 * browser profile.
 */
final class SimdHarness implements AutoCloseable {
    static final List<String> CHROME_FLAGS = List.of(
            "--headless=new", "--no-sandbox", "--disable-gpu-sandbox", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
            "--enable-unsafe-webgpu", "--enable-unsafe-swiftshader");

    private static final Map<String, String> CONTENT_TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "wasm", "application/wasm");

    /** Strong reference: quiets selenium's "no CDP devtools for this Chromium version" warnings (we use no CDP). */
    private static final Logger SELENIUM_LOG = Logger.getLogger("org.openqa.selenium");

    static {
        SELENIUM_LOG.setLevel(Level.SEVERE);
    }

    private final HttpServer server;
    private final Path profileDir;
    private final ChromeDriver driver;

    private SimdHarness(HttpServer server, Path profileDir, ChromeDriver driver) {
        this.server = server;
        this.profileDir = profileDir;
        this.driver = driver;
    }

    static SimdHarness start() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", SimdHarness::serveClasspathWeb);
        server.start();
        Path profile = null;
        try {
            profile = Files.createTempDirectory("simd-kernels-chrome-");
            ChromeOptions options = new ChromeOptions();
            options.setBinary(envOr("CHROME_BIN", "/usr/bin/chromium"));
            options.addArguments(CHROME_FLAGS);
            options.addArguments("--user-data-dir=" + profile);
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(Path.of(envOr("CHROMEDRIVER", "/usr/bin/chromedriver")).toFile())
                    .usingAnyFreePort()
                    .build();
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(240));
            driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
            return new SimdHarness(server, profile, driver);
        } catch (RuntimeException | IOException e) {
            server.stop(0);
            if (profile != null) deleteTree(profile);
            throw e;
        }
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Loads {@code page} (a path such as /simd-harness/simd.html) and awaits the promise named {@code readyGlobal}. */
    @SuppressWarnings("unchecked")
    Map<String, Object> open(String page, String readyGlobal) {
        driver.get(baseUrl() + page);
        Object r = driver.executeAsyncScript(
                "const done = arguments[arguments.length - 1]; window[arguments[0]].then(done);", readyGlobal);
        return (Map<String, Object>) r;
    }

    /**
     * Loads {@code page} and waits up to {@code max} for the promise named {@code readyGlobal}, polling in 30 s
     * script calls (one long script call would hit the WebDriver HTTP client's read timeout).
     */
    @SuppressWarnings("unchecked")
    Map<String, Object> openAndPoll(String page, String readyGlobal, Duration max) {
        driver.get(baseUrl() + page);
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            Object r = driver.executeAsyncScript(
                    "const [g, done] = arguments;"
                            + "Promise.race([window[g], new Promise((r) => setTimeout(() => r(null), 30000))]).then(done);",
                    readyGlobal);
            if (r != null) return (Map<String, Object>) r;
        }
        throw new IllegalStateException(page + " did not finish within " + max);
    }

    /** Calls {@code window.simdHarness[fn](arg)}; rejections come back as {@code {error: ...}}. */
    @SuppressWarnings("unchecked")
    Map<String, Object> call(String fn, Map<String, Object> arg) {
        Object r = ((JavascriptExecutor) driver).executeAsyncScript(
                "const [fn, arg, done] = arguments;"
                        + "window.simdHarness[fn](arg).then(done, (e) => done({error: String(e && e.stack || e)}));",
                fn, arg);
        return (Map<String, Object>) r;
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            server.stop(0);
            deleteTree(profileDir);
        }
    }

    private static void serveClasspathWeb(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            if (!"GET".equals(ex.getRequestMethod()) || path.contains("..") || path.endsWith("/")) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            try (InputStream in = SimdHarness.class.getClassLoader().getResourceAsStream("web" + path)) {
                if (in == null) {
                    ex.sendResponseHeaders(404, -1);
                    return;
                }
                byte[] body = in.readAllBytes();
                String ext = path.substring(path.lastIndexOf('.') + 1);
                var h = ex.getResponseHeaders();
                h.set("Content-Type", CONTENT_TYPES.getOrDefault(ext, "application/octet-stream"));
                h.set("Cache-Control", "no-store");
                // Cross-origin isolation: required for SharedArrayBuffer / shared WebAssembly.Memory across Workers.
                h.set("Cross-Origin-Opener-Policy", "same-origin");
                h.set("Cross-Origin-Embedder-Policy", "require-corp");
                h.set("Cross-Origin-Resource-Policy", "same-origin");
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }

    private static String envOr(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    /** Deletes the profile; retries briefly because Chromium child processes may still be exiting. */
    private static void deleteTree(Path root) {
        for (int attempt = 0; Files.exists(root); attempt++) {
            try (Stream<Path> walk = Files.walk(root)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (IOException | UncheckedIOException e) {
                if (attempt >= 10) throw new IllegalStateException("cannot delete browser profile " + root, e);
                try {
                    Thread.sleep(200);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(ie);
                }
            }
        }
    }
}
