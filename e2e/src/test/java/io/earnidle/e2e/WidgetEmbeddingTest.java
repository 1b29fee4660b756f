package io.earnidle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.earnidle.backend.EarnIdleServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The widget as embedded by a publisher (host page on 127.0.0.2, widget on 127.0.0.1): the host page's postMessage
 * API with strict origin checks both ways, a keyboard-only run through the steps, and a narrow (320 px) dark-theme
 * rendering that never shifts the host page's layout.
 */
class WidgetEmbeddingTest {
    private static final String PLACEMENT = "demo-placement";
    /** The BIP-39 test phrase; m/44'/60'/0'/0/0 is the well-known address below. */
    private static final String TEST_PHRASE = "abandon abandon abandon abandon abandon abandon abandon abandon abandon"
            + " abandon abandon about";
    private static final String TEST_ADDRESS = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";

    @TempDir
    static Path dataDir;
    static EarnIdleServer server;
    static String api;

    @BeforeAll
    static void startBackend() {
        server = TestBackend.start(dataDir, Map.of());
        api = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stopBackend() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void hostPageApiSendsEventsAndIgnoresOtherOrigins() throws Exception {
        String recorder = """
                <script>
                  window.__events = [];
                  ['ready', 'status', 'earnings', 'request'].forEach(t =>
                      document.addEventListener('earnidle:' + t, e => window.__events.push(e.detail)));
                </script>""";
        String evilHtml = """
                <!doctype html><html><body>evil frame<script>
                  addEventListener('message', e => {
                    if (e.data !== 'go') return;
                    for (let i = 0; i < parent.frames.length; i++) {
                      if (parent.frames[i] !== window) {
                        parent.frames[i].postMessage({source: 'earnidle-host', type: 'request', action: 'pause'}, '*');
                      }
                    }
                    parent.postMessage({source: 'earnidle', version: 1, type: 'earnings', placement: 'demo-placement',
                        available_micro_usdc: 999999999, pending_micro_usdc: 0, jobs_completed: 99}, '*');
                  });
                </script></body></html>""";
        try (HostPage evil = HostPage.serve("127.0.0.3", evilHtml);
             HostPage host = HostPage.serve("127.0.0.2", Widget.hostHtml(api, PLACEMENT, recorder,
                     "<iframe id=\"evil\" title=\"another origin\" src=\"" + evil.url() + "\"></iframe>"));
             Chromium chromium = Chromium.start()) {
            ChromeDriver driver = chromium.driver;
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            driver.get(host.url());
            WebElement frame = Widget.enter(driver, wait, PLACEMENT);
            wait.until(ExpectedConditions.elementToBeClickable(By.id("consent-accept")));
            driver.switchTo().defaultContent();
            assertEquals("cross-origin-isolated", frame.getAttribute("allow"));
            assertEquals("lazy", frame.getAttribute("loading"));
            assertTrue(frame.getAttribute("title").startsWith("Earn Idle"), frame.getAttribute("title"));
            wait.until(d -> events(driver, "ready").size() == 1);

            // a start request before consent only asks the visitor; nothing is fetched or run
            driver.executeScript("EarnIdle.get('demo-placement').requestStart();");
            wait.until(d -> events(driver, "request").stream().anyMatch(e -> "needs-consent".equals(e.get("outcome"))));
            Widget.enter(driver, wait, PLACEMENT);
            assertTrue(driver.findElement(By.id("host-request")).getText().contains("nothing starts until you agree"));
            assertEquals("welcome", driver.findElement(By.tagName("body")).getAttribute("data-step"));
            assertEquals(List.of(), driver.executeScript("return performance.getEntriesByType('resource')"
                    + ".map(e => e.name).filter(n => n.includes('/node/') || n.includes('/api/'));"));
            Widget.screenshot(driver, PLACEMENT, "host-request");

            // the visitor starts; the host page hears status and earnings events
            Widget.startWithoutWallet(wait);
            wait.until(d -> !"–".equals(d.findElement(By.id("session-id")).getText()));
            wait.until(ExpectedConditions.attributeToBe(By.id("state"), "data-state", "idle"));
            driver.switchTo().defaultContent();
            wait.until(d -> events(driver, "status").stream().anyMatch(e -> "session".equals(e.get("step"))
                    && "idle".equals(e.get("state"))));
            wait.until(d -> !events(driver, "earnings").isEmpty());

            // another origin's frame can neither command the widget nor forge its events
            driver.executeScript("document.getElementById('evil').contentWindow.postMessage('go', '*');");
            Widget.enter(driver, wait, PLACEMENT);
            wait.until(ExpectedConditions.attributeToBe(By.tagName("body"), "data-rejected-messages", "1"));
            Thread.sleep(1000);
            assertEquals("idle", driver.findElement(By.id("state")).getAttribute("data-state"));
            driver.switchTo().defaultContent();
            assertTrue(events(driver, "earnings").stream().noneMatch(e -> e.get("jobs_completed").equals(99L)),
                    "forged events from another origin are not passed on");

            // the host page may pause (within a second, page clock: from the request's message reaching the widget
            // to the state shown); resuming needs the visitor
            Widget.enter(driver, wait, PLACEMENT);
            long pausedMs = Widget.millisUntilState(driver, "message", () -> {
                driver.switchTo().defaultContent();
                driver.executeScript("EarnIdle.get('demo-placement').requestPause();");
                Widget.enter(driver, wait, PLACEMENT);
            }, "paused", true);
            assertTrue(pausedMs <= 1000, pausedMs + " ms");
            assertEquals("Resume", driver.findElement(By.id("pause-toggle")).getText());
            driver.switchTo().defaultContent();
            wait.until(d -> events(driver, "status").stream().anyMatch(e -> "paused".equals(e.get("state"))
                    && Boolean.TRUE.equals(e.get("visitor_paused"))));
            driver.executeScript("EarnIdle.get('demo-placement').requestStart();");
            Widget.enter(driver, wait, PLACEMENT);
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("host-request"), "resume"));
            Thread.sleep(1500);
            assertEquals("paused", driver.findElement(By.id("state")).getAttribute("data-state"),
                    "a host request never resumes by itself");
            long resumedMs = Widget.millisUntilState(driver, "click",
                    () -> driver.findElement(By.id("pause-toggle")).click(), "paused", false);
            assertTrue(resumedMs <= 1000, resumedMs + " ms");
        }
    }

    @Test
    void keyboardOnlyThroughTheSteps() throws Exception {
        try (HostPage host = HostPage.serve("127.0.0.2", Widget.hostHtml(api, PLACEMENT, "", ""));
             Chromium chromium = Chromium.start()) {
            ChromeDriver driver = chromium.driver;
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            driver.get(host.url());
            Widget.enter(driver, wait, PLACEMENT);
            wait.until(ExpectedConditions.elementToBeClickable(By.id("consent-accept")));

            press(driver, "consent-accept", Keys.ENTER);
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("wallet-import-show")));
            press(driver, "wallet-import-show", Keys.ENTER);
            wait.until(d -> "import-phrase".equals(d.switchTo().activeElement().getAttribute("id")));
            new Actions(driver).sendKeys(TEST_PHRASE).perform();
            press(driver, "import-submit", Keys.ENTER);

            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("limit-cpu")));
            tabTo(driver, "limit-cpu");
            new Actions(driver).sendKeys(Keys.ARROW_LEFT).sendKeys(Keys.ARROW_LEFT).perform();
            assertEquals("40", driver.findElement(By.id("limit-cpu-value")).getText());
            tabTo(driver, "limit-gpu");
            new Actions(driver).sendKeys(Keys.SPACE).perform();
            Widget.screenshot(driver, PLACEMENT, "keyboard");
            press(driver, "limits-start", Keys.ENTER);

            wait.until(ExpectedConditions.textToBe(By.id("verify-address"), TEST_ADDRESS));
            press(driver, "verify-sign", Keys.ENTER);
            wait.until(ExpectedConditions.textToBe(By.id("session-wallet"), TEST_ADDRESS));
            assertEquals(Map.of("cpu_share", 0.4, "gpu", true), driver.executeScript(
                    "const l = JSON.parse(localStorage.getItem('earnidle.limits.v1'));"
                            + "return {cpu_share: l.cpu_share, gpu: l.gpu};"));
            wait.until(d -> !"–".equals(d.findElement(By.id("session-id")).getText()));

            // Enter on a button clicks it: the state follows within a second (page clock)
            long pausedMs = Widget.millisUntilState(driver, "click", () -> press(driver, "pause-toggle", Keys.ENTER),
                    "paused", true);
            long resumedMs = Widget.millisUntilState(driver, "click",
                    () -> new Actions(driver).sendKeys(Keys.ENTER).perform(), "paused", false); // focus stays
            assertTrue(pausedMs <= 1000 && resumedMs <= 1000, pausedMs + " / " + resumedMs + " ms");

            press(driver, "to-payouts", Keys.ENTER);
            wait.until(ExpectedConditions.textToBe(By.id("payout-wallet"), TEST_ADDRESS));
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("withdraw-min"), "Minimum 1.000000"));
            tabTo(driver, "withdraw-amount");
            new Actions(driver).sendKeys("2").perform();
            press(driver, "withdraw-submit", Keys.ENTER);
            assertTrue(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("withdraw-error"))).getText()
                    .contains("0.000000 USDC available"));
            press(driver, "payouts-back", Keys.ENTER);
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("session")));
            long stoppedMs = Widget.millisUntilState(driver, "click", () -> press(driver, "stop", Keys.ENTER),
                    "stopped", true);
            assertTrue(stoppedMs <= 1000, stoppedMs + " ms");
        }
    }

    @Test
    void narrowDarkAndNoLayoutShift() throws Exception {
        String html = """
                <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Narrow host</title>
                <script>
                  window.__cls = 0;
                  new PerformanceObserver(list => list.getEntries().forEach(e => { window.__cls += e.value; }))
                      .observe({type: 'layout-shift', buffered: true});
                </script></head>
                <body style="margin:0;background:#111;color:#eee;font:16px system-ui">
                <p>Above the widget.</p>
                <div id="slot" style="width:320px;min-height:520px">
                <script src="%s/embed.js" data-placement="%s" async></script>
                </div>
                <p id="after">Below the widget.</p>
                </body></html>""".formatted(api, PLACEMENT);
        try (HostPage host = HostPage.serve("127.0.0.2", html);
             Chromium chromium = Chromium.start("--force-dark-mode")) {
            ChromeDriver driver = chromium.driver;
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            driver.get(host.url());
            Object afterTop = driver.executeScript("return document.getElementById('after').getBoundingClientRect().top;");
            WebElement frame = Widget.enter(driver, wait, PLACEMENT);
            wait.until(ExpectedConditions.elementToBeClickable(By.id("consent-accept")));
            assertEquals(true, driver.executeScript("return matchMedia('(prefers-color-scheme: dark)').matches;"));
            assertEquals("rgb(21, 24, 28)", driver.executeScript(
                    "return getComputedStyle(document.body).backgroundColor;"), "the dark theme is used");
            assertNoHorizontalScroll(driver);
            Widget.screenshot(driver, PLACEMENT, "narrow-dark-welcome");

            driver.findElement(By.id("consent-accept")).click();
            wait.until(ExpectedConditions.elementToBeClickable(By.id("wallet-skip")));
            assertNoHorizontalScroll(driver);
            Widget.screenshot(driver, PLACEMENT, "narrow-dark-wallet");
            driver.findElement(By.id("wallet-skip")).click();
            wait.until(ExpectedConditions.elementToBeClickable(By.id("limits-start")));
            assertNoHorizontalScroll(driver);
            driver.findElement(By.id("limit-memory")).clear();
            driver.findElement(By.id("limit-memory")).sendKeys("5");
            driver.findElement(By.id("limits-start")).click();
            String error = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("limits-error"))).getText();
            assertTrue(error.contains("Memory (MB) must be a whole number from 64"), error);
            assertEquals("true", driver.findElement(By.id("limit-memory")).getAttribute("aria-invalid"));
            driver.findElement(By.id("limit-memory")).clear();
            driver.findElement(By.id("limit-memory")).sendKeys("256");
            driver.findElement(By.id("limits-start")).click();
            wait.until(d -> !"–".equals(d.findElement(By.id("session-id")).getText()));
            assertNoHorizontalScroll(driver);
            Widget.screenshot(driver, PLACEMENT, "narrow-dark-session");

            driver.switchTo().defaultContent();
            assertEquals(320L, driver.executeScript("return Math.round(arguments[0].getBoundingClientRect().width);",
                    frame));
            assertEquals(afterTop, driver.executeScript(
                    "return document.getElementById('after').getBoundingClientRect().top;"), "nothing moved");
            assertEquals(0.0, ((Number) driver.executeScript("return window.__cls;")).doubleValue(),
                    "no layout shift on the host page");
        }
    }

    private static void assertNoHorizontalScroll(ChromeDriver driver) {
        Object overflow = driver.executeScript(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
        assertEquals(0L, overflow, "readable at 320 px without horizontal scrolling");
    }

    /** Presses Tab until the element with this id has focus (at most 40 times), then presses {@code key}. */
    private static void press(ChromeDriver driver, String id, CharSequence key) {
        tabTo(driver, id);
        new Actions(driver).sendKeys(key).perform();
    }

    private static void tabTo(ChromeDriver driver, String id) {
        for (int i = 0; i < 40; i++) {
            if (id.equals(driver.switchTo().activeElement().getAttribute("id"))) {
                return;
            }
            new Actions(driver).sendKeys(Keys.TAB).perform();
        }
        fail("#" + id + " cannot be reached with the Tab key");
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> events(ChromeDriver driver, String type) {
        return (List<Map<String, Object>>) driver.executeScript(
                "return window.__events.filter(e => e.type === arguments[0]);", type);
    }
}
