package io.earnidle.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Real headless Chromium ($CHROME_BIN, else Debian's /usr/bin/chromium) under ChromeDriver ($CHROMEDRIVER, else
 * /usr/bin/chromedriver), started with {@link ChromiumFlags} and a profile folder of the caller's.
 */
public final class SeleniumChromium {
    /** Strong reference: quiets selenium's "no CDP devtools for this Chromium version" warnings (we use no CDP). */
    private static final Logger SELENIUM_LOG = Logger.getLogger("org.openqa.selenium");

    static {
        SELENIUM_LOG.setLevel(Level.SEVERE);
    }

    private SeleniumChromium() {
    }

    /** Starts Chromium on profile folder {@code profile} with the project's flags plus {@code extraArgs}. */
    public static ChromeDriver start(Path profile, String... extraArgs) {
        String binary = envOr("CHROME_BIN", "/usr/bin/chromium");
        String chromedriver = envOr("CHROMEDRIVER", "/usr/bin/chromedriver");
        if (!Files.isExecutable(Path.of(binary)) || !Files.isExecutable(Path.of(chromedriver))) {
            throw new IllegalStateException("Chromium (" + binary + ") and ChromeDriver (" + chromedriver
                    + ") are needed for the browser tests; `./earnidle test` installs them (apt packages chromium and"
                    + " chromium-driver), or set CHROME_BIN and CHROMEDRIVER.");
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(binary);
        options.addArguments(ChromiumFlags.headless());
        options.addArguments("--user-data-dir=" + profile);
        options.addArguments(extraArgs);
        // Chromium's temporary files (its single-instance socket folder, which a killed browser leaves behind) go
        // inside the profile, deleted with it (deleteProfile)
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Path.of(chromedriver).toFile())
                .usingAnyFreePort()
                .withEnvironment(Map.of("TMPDIR", profile.toString()))
                .build();
        return new ChromeDriver(service, options);
    }

    /** Deletes a profile folder; retries briefly because Chromium child processes may still be exiting. */
    public static void deleteProfile(Path root) {
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
                if (attempt >= 10) {
                    throw new IllegalStateException("cannot delete browser profile " + root, e);
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(ie);
                }
            }
        }
    }

    private static String envOr(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}
