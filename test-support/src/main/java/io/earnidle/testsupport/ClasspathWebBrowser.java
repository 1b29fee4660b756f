package io.earnidle.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * A {@link LoopbackServer} serving the class path's {@code web/} folder and a {@link SeleniumChromium} on a fresh
 * profile: the kernel test pages' fixture. Closing stops both and deletes the profile.
 */
public final class ClasspathWebBrowser implements AutoCloseable {
    private final LoopbackServer server;
    private final Path profile;
    private final ChromeDriver driver;

    private ClasspathWebBrowser(LoopbackServer server, Path profile, ChromeDriver driver) {
        this.server = server;
        this.profile = profile;
        this.driver = driver;
    }

    /**
     * Starts both: files typed by extension with {@code types}, sent with {@code headers}; the browser's async script
     * timeout is {@code scriptTimeout}, its page load timeout 60 s; the profile folder's name starts with
     * {@code profilePrefix}.
     */
    public static ClasspathWebBrowser start(String profilePrefix, Map<String, String> types,
            Map<String, String> headers, Duration scriptTimeout) throws IOException {
        LoopbackServer server = LoopbackServer.start(LoopbackServer.classpathFiles("web", types, headers));
        Path profile = null;
        try {
            profile = Files.createTempDirectory(profilePrefix);
            ChromeDriver driver = SeleniumChromium.start(profile);
            driver.manage().timeouts().scriptTimeout(scriptTimeout);
            driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
            return new ClasspathWebBrowser(server, profile, driver);
        } catch (RuntimeException | IOException e) {
            server.close();
            if (profile != null) {
                SeleniumChromium.deleteProfile(profile);
            }
            throw e;
        }
    }

    public String baseUrl() {
        return server.origin();
    }

    public ChromeDriver driver() {
        return driver;
    }

    /** Calls {@code window[api][fn](arg)} (a promise); rejections come back as {@code {error: ...}}. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> call(String api, String fn, Map<String, Object> arg) {
        Object r = driver.executeAsyncScript(
                "const [api, fn, arg, done] = arguments;"
                        + "window[api][fn](arg).then(done, (e) => done({error: String(e && e.stack || e)}));",
                api, fn, arg);
        return (Map<String, Object>) r;
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            server.close();
            SeleniumChromium.deleteProfile(profile);
        }
    }
}
