package io.earnidle.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Real headless Chromium (Debian's package) driven by Selenium, with the flags that make WebGPU, WebGL and WASM
 * work on a GPU-less machine, and a fresh profile that is deleted on close.
 */
final class Chromium implements AutoCloseable {
    final ChromeDriver driver;
    private final Path profile;

    private Chromium(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    static Chromium start() throws IOException {
        return start(new String[0]);
    }

    /** Starts Chromium with extra command-line flags (for example {@code --host-resolver-rules=...}). */
    static Chromium start(String... extraArgs) throws IOException {
        Path profile = Files.createTempDirectory("earnidle-chromium-");
        String binary = envOr("CHROME_BIN", "/usr/bin/chromium");
        String chromedriver = envOr("CHROMEDRIVER", "/usr/bin/chromedriver");
        if (!Files.isExecutable(Path.of(binary)) || !Files.isExecutable(Path.of(chromedriver))) {
            throw new IllegalStateException("Chromium (" + binary + ") and ChromeDriver (" + chromedriver
                    + ") are needed for the browser tests; `./earnidle test` installs them (apt packages chromium and"
                    + " chromium-driver), or set CHROME_BIN and CHROMEDRIVER.");
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(binary);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu-sandbox", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
                "--enable-unsafe-webgpu", "--enable-unsafe-swiftshader", "--window-size=1280,900",
                "--user-data-dir=" + profile);
        options.addArguments(extraArgs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Path.of(chromedriver).toFile())
                .usingAnyFreePort()
                .build();
        return new Chromium(new ChromeDriver(service, options), profile);
    }

    private static String envOr(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    @Override
    public void close() throws IOException {
        try {
            driver.quit();
        } finally {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
