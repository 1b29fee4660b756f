package io.earnidle.kernels.simd;

import io.earnidle.testsupport.ClasspathWebBrowser;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;

/**
 * Test fixture for the WASM SIMD kernels: classpath {@code web/} on a loopback server with COOP/COEP headers, so
 * pages are cross-origin isolated (SharedArrayBuffer, shared wasm memory, Worker threads), and a headless Chromium
 * driven by selenium (test-support's {@link ClasspathWebBrowser}). Closing stops both and deletes the browser profile.
 */
final class SimdHarness implements AutoCloseable {
    private static final Map<String, String> CONTENT_TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "wasm", "application/wasm");

    /** Cross-origin isolation: required for SharedArrayBuffer / shared WebAssembly.Memory across Workers. */
    private static final Map<String, String> ISOLATION = Map.of(
            "Cross-Origin-Opener-Policy", "same-origin",
            "Cross-Origin-Embedder-Policy", "require-corp",
            "Cross-Origin-Resource-Policy", "same-origin");

    private final ClasspathWebBrowser browser;

    private SimdHarness(ClasspathWebBrowser browser) {
        this.browser = browser;
    }

    static SimdHarness start() throws IOException {
        return new SimdHarness(ClasspathWebBrowser.start("simd-kernels-chrome-", CONTENT_TYPES, ISOLATION,
                Duration.ofSeconds(240)));
    }

    /** Loads {@code page} (a path such as /simd-harness/simd.html) and awaits the promise named {@code readyGlobal}. */
    @SuppressWarnings("unchecked")
    Map<String, Object> open(String page, String readyGlobal) {
        browser.driver().get(browser.baseUrl() + page);
        Object r = browser.driver().executeAsyncScript(
                "const done = arguments[arguments.length - 1]; window[arguments[0]].then(done);", readyGlobal);
        return (Map<String, Object>) r;
    }

    /**
     * Loads {@code page} and waits up to {@code max} for the promise named {@code readyGlobal}, polling in 30 s
     * script calls (one long script call would hit the WebDriver HTTP client's read timeout).
     */
    @SuppressWarnings("unchecked")
    Map<String, Object> openAndPoll(String page, String readyGlobal, Duration max) {
        browser.driver().get(browser.baseUrl() + page);
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            Object r = browser.driver().executeAsyncScript(
                    "const [g, done] = arguments;"
                            + "Promise.race([window[g], new Promise((r) => setTimeout(() => r(null), 30000))])"
                            + ".then(done);",
                    readyGlobal);
            if (r != null) {
                return (Map<String, Object>) r;
            }
        }
        throw new IllegalStateException(page + " did not finish within " + max);
    }

    /** Calls {@code window.simdHarness[fn](arg)}; rejections come back as {@code {error: ...}}. */
    Map<String, Object> call(String fn, Map<String, Object> arg) {
        return browser.call("simdHarness", fn, arg);
    }

    @Override
    public void close() {
        browser.close();
    }
}
