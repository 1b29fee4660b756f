package io.earnidle.e2e;

import io.earnidle.testsupport.SeleniumChromium;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * Real headless Chromium (Debian's package) driven by Selenium, with the project's flags (test-support's
 * SeleniumChromium: WebGPU, WebGL and WASM on a GPU-less machine), a 1280x900 window and a fresh profile that is
 * deleted on close.
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
        String[] args = Stream.concat(Stream.of("--window-size=1280,900"), Stream.of(extraArgs)).toArray(String[]::new);
        return new Chromium(SeleniumChromium.start(profile, args), profile);
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            SeleniumChromium.deleteProfile(profile);
        }
    }
}
