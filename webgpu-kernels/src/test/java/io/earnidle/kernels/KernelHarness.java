package io.earnidle.kernels;

import io.earnidle.testsupport.ClasspathWebBrowser;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;

/**
 * Test fixture: classpath {@code web/} (the kernels under {@code /kernels/}, the harness page under
 * {@code /harness/}) on a loopback server and a headless Chromium with WebGPU on SwiftShader driven by selenium
 * (test-support's {@link ClasspathWebBrowser}). Closing stops both and deletes the browser profile.
 */
final class KernelHarness implements AutoCloseable {
    private static final Map<String, String> CONTENT_TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "wgsl", "text/plain; charset=utf-8");

    private final ClasspathWebBrowser browser;

    private KernelHarness(ClasspathWebBrowser browser) {
        this.browser = browser;
    }

    static KernelHarness start() throws IOException {
        return new KernelHarness(ClasspathWebBrowser.start("webgpu-kernels-chrome-", CONTENT_TYPES, Map.of(),
                Duration.ofSeconds(120)));
    }

    /** Loads the harness page and waits for its WebGPU init; returns the init report (ok, adapter, error...). */
    @SuppressWarnings("unchecked")
    Map<String, Object> open() {
        browser.driver().get(browser.baseUrl() + "/harness/kernels.html");
        Object r = browser.driver().executeAsyncScript(
                "const done = arguments[arguments.length - 1]; window.kernelHarnessReady.then(done);");
        return (Map<String, Object>) r;
    }

    /** Calls {@code window.kernelHarness[fn](arg)}; rejections come back as {@code {error: ...}}. */
    Map<String, Object> call(String fn, Map<String, Object> arg) {
        return browser.call("kernelHarness", fn, arg);
    }

    @Override
    public void close() {
        browser.close();
    }
}
