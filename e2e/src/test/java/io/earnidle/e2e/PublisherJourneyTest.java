package io.earnidle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.earnidle.backend.EarnIdleServer;
import io.earnidle.testsupport.Dnsmasq;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.openqa.selenium.virtualauthenticator.HasVirtualAuthenticator;
import org.openqa.selenium.virtualauthenticator.VirtualAuthenticatorOptions;

/**
 * The publisher's whole journey in headless Chromium against a real dnsmasq: sign up, add a domain, see the check
 * fail before the TXT record exists and succeed after, create a placement, copy its embed code into a host page on
 * the verified domain (another origin), watch the widget run a job there and the dashboard count it without a
 * reload, see the widget refuse on an unverified origin, and register and use a passkey (virtual authenticator).
 * Screenshots for docs/publishers.md are saved by {@link Screenshots} (under target/ unless refreshing docs/img).
 */
class PublisherJourneyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String CUSTOMER_KEY = "journey-customer-key";
    private static final String DOMAIN = "shop.example.test";

    @TempDir
    static Path dataDir;
    static Dnsmasq dns;
    static EarnIdleServer server;
    static String api;
    static String portal;

    @BeforeAll
    static void start() throws Exception {
        dns = Dnsmasq.start();
        server = TestBackend.start(dataDir, Map.of(
                "earnidle.demo.customer-api-key", CUSTOMER_KEY,
                "earnidle.dns.resolver", dns.resolver(),
                // the widget's node gets the customer's job at once, as before capability
                // benchmarks and the warm preference (docs/trust.md)
                "earnidle.capability.benchmark.enabled", "false",
                "earnidle.capability.dispatch.preference-wait-ms", "0",
                // paid unverified and at once, as before verification (docs/trust.md)
                "earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.sample-rate", "0"));
        api = "http://127.0.0.1:" + server.port();
        // passkeys need a domain name as relying party id, so the portal is opened as localhost
        portal = "http://localhost:" + server.port() + "/portal/";
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (dns != null) {
            dns.close();
        }
    }

    @Test
    void publisherJourney() throws Exception {
        try (Chromium chromium = Chromium.start("--host-resolver-rules=MAP " + DOMAIN + " 127.0.0.2, MAP localhost 127.0.0.1")) {
            ChromeDriver driver = chromium.driver;
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));

            // 1. sign up
            driver.get(portal);
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("signup-form")));
            driver.findElement(By.id("signup-name")).sendKeys("The <Shop>");
            driver.findElement(By.id("signup-email")).sendKeys("owner@shop.example.test");
            driver.findElement(By.id("signup-password")).sendKeys("short");
            driver.findElement(By.cssSelector("#signup-form button[type=submit]")).click();
            assertTrue(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("signup-error"))).getText()
                    .contains("12 characters"));
            driver.findElement(By.id("signup-password")).sendKeys(" but now long enough");
            screenshot(driver, "portal-signup");
            driver.findElement(By.cssSelector("#signup-form button[type=submit]")).click();
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("signed-in")));
            assertEquals("owner@shop.example.test", driver.findElement(By.id("account-email")).getText());

            // 2. add a domain: invalid input first, then the real one
            driver.findElement(By.id("domain-input")).sendKeys("https://" + DOMAIN + "/");
            driver.findElement(By.cssSelector("#domain-form button[type=submit]")).click();
            assertTrue(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("domain-error"))).getText()
                    .contains("not a URL"));
            driver.findElement(By.id("domain-input")).clear();
            driver.findElement(By.id("domain-input")).sendKeys(DOMAIN);
            driver.findElement(By.cssSelector("#domain-form button[type=submit]")).click();
            WebElement domainCard = wait.until(ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("li.domain[data-domain='" + DOMAIN + "']")));
            String recordName = domainCard.findElement(By.className("record-name")).getText();
            String recordValue = domainCard.findElement(By.className("record-value")).getText();
            assertEquals("_earnidle-challenge." + DOMAIN, recordName);
            assertTrue(recordValue.matches("earnidle-verify=[0-9a-f]{40}"), recordValue);

            // 3. "Check now" fails before the record exists, showing what the resolver saw
            domainCard.findElement(By.className("check-now")).click();
            WebElement checkError = wait.until(d -> {
                WebElement e = d.findElement(By.cssSelector("li.domain[data-domain='" + DOMAIN + "'] .error"));
                return e.isDisplayed() ? e : null;
            });
            assertTrue(checkError.getText().contains("NXDOMAIN") && checkError.getText().contains(dns.resolver()),
                    checkError.getText());
            screenshot(driver, "portal-domain-pending");

            // ... and succeeds once the TXT record is published
            dns.setTxt(recordName, recordValue);
            driver.findElement(By.cssSelector("li.domain[data-domain='" + DOMAIN + "'] .check-now")).click();
            wait.until(ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("li.domain[data-domain='" + DOMAIN + "'][data-status='verified']")));
            wait.until(ExpectedConditions.textToBe(By.id("stat-domains"), "1"));
            screenshot(driver, "portal-domain-verified");

            // 4. create a placement; duplicate ids and out-of-range limits are explained
            String evilName = "<img src=x onerror=window.__xss=1> Shop articles";
            fillPlacement(driver, "demo-placement", evilName, "0.5");
            assertTrue(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("placement-error"))).getText()
                    .contains("is taken"));
            fillPlacement(driver, "shop-articles", evilName, "7");
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("placement-error"), "cpu_share"));
            fillPlacement(driver, "shop-articles", evilName, "0.5");
            WebElement card = wait.until(ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("li.placement[data-placement-id='shop-articles']")));
            String shownName = card.findElement(By.tagName("h3")).getText();
            assertTrue(shownName.startsWith("<img src=x"), "names are shown as text: " + shownName);
            assertTrue(card.findElements(By.tagName("img")).isEmpty());
            assertEquals(null, driver.executeScript("return window.__xss || null;"));

            // 5. copy the embed code with the copy button
            driver.executeCdpCommand("Browser.grantPermissions", Map.of("origin", "http://localhost:" + server.port(),
                    "permissions", List.of("clipboardReadWrite", "clipboardSanitizedWrite")));
            card.findElement(By.className("copy-script")).click();
            wait.until(ExpectedConditions.textToBePresentInElement(card.findElement(By.className("copy-status")),
                    "Copied"));
            String copied = (String) driver.executeAsyncScript(
                    "var done = arguments[arguments.length - 1]; navigator.clipboard.readText().then(done, "
                            + "function (e) { done('clipboard error: ' + e); });");
            assertEquals("<script src=\"http://localhost:" + server.port()
                    + "/embed.js\" data-placement=\"shop-articles\" async></script>", copied);
            screenshot(driver, "portal-placement");
            driver.executeScript("window.__sameDocument = 'yes';");
            String portalTab = driver.getWindowHandle();

            // 6. the copied code on a page of the verified domain (another origin): the widget runs a job there
            String hostHtml = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shop</title>"
                    + "</head><body><h1>Shop articles</h1>" + copied + "</body></html>";
            try (HostPage shop = HostPage.serve("127.0.0.2", hostHtml);
                 HostPage elsewhere = HostPage.serve("127.0.0.3", hostHtml)) {
                String shopUrl = shop.url().replace("127.0.0.2", DOMAIN);
                driver.switchTo().newWindow(WindowType.TAB);
                driver.get(shopUrl);
                WebElement frame = wait.until(ExpectedConditions.presenceOfElementLocated(
                        By.cssSelector("iframe[data-earnidle-placement='shop-articles']")));
                wait.until(ExpectedConditions.frameToBeAvailableAndSwitchToIt(frame));
                Widget.startWithoutWallet(wait);
                String jobId = postJob();
                awaitCompleted(jobId, Duration.ofSeconds(180));
                wait.until(ExpectedConditions.textToBe(By.id("jobs-completed"), "1"));
                driver.switchTo().defaultContent();

                // 7. the dashboard, which stayed open, counts the session and the job without a reload
                driver.switchTo().window(portalTab);
                WebDriverWait slow = new WebDriverWait(driver, Duration.ofSeconds(30));
                slow.until(ExpectedConditions.textToBe(By.id("stat-jobs"), "1"));
                slow.until(ExpectedConditions.textToBe(By.id("stat-active"), "1"));
                assertEquals("yes", driver.executeScript("return window.__sameDocument;"), "no reload happened");
                long balance = Long.parseLong(driver.findElement(By.id("stat-balance")).getAttribute("data-micro-usdc"));
                assertTrue(balance > 0, "the publisher earned its share: " + balance);
                Object todayBar = driver.executeScript(
                        "var bars = document.querySelectorAll('#chart rect.bar');"
                                + "return bars[bars.length - 1].getAttribute('data-micro-usdc');");
                assertEquals(String.valueOf(balance), todayBar, "today's bar shows today's earnings");
                driver.executeScript("document.getElementById('dashboard-title').scrollIntoView();");
                screenshot(driver, "portal-dashboard");

                // 8. the same code on an unverified origin: the widget politely refuses and nothing runs
                driver.switchTo().newWindow(WindowType.TAB);
                driver.get(elsewhere.url());
                WebElement other = wait.until(ExpectedConditions.presenceOfElementLocated(
                        By.cssSelector("iframe[data-earnidle-placement='shop-articles']")));
                wait.until(ExpectedConditions.frameToBeAvailableAndSwitchToIt(other));
                String refusal = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("refusal-message")))
                        .getText();
                assertTrue(refusal.contains("not enabled for " + elsewhere.url().replaceAll("/$", "")), refusal);
                assertTrue(driver.findElements(By.id("consent-accept")).isEmpty(), "no way to start here");
                driver.switchTo().defaultContent();
                screenshot(driver, "widget-refused");
                driver.close();
                driver.switchTo().window(portalTab);
            }

            // 9. passkeys with Chrome's virtual authenticator: register, sign out, sign in with it
            ((HasVirtualAuthenticator) driver).addVirtualAuthenticator(new VirtualAuthenticatorOptions()
                    .setProtocol(VirtualAuthenticatorOptions.Protocol.CTAP2)
                    .setTransport(VirtualAuthenticatorOptions.Transport.INTERNAL)
                    .setHasResidentKey(true)
                    .setHasUserVerification(true)
                    .setIsUserVerified(true));
            driver.findElement(By.id("passkey-register")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("passkey-status"), "Passkey added"));
            assertEquals("1", driver.findElement(By.id("passkey-count")).getText());
            driver.findElement(By.id("signout")).click();
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("signed-out")));
            driver.findElement(By.id("passkey-signin")).click();
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("signed-in")));
            assertEquals("owner@shop.example.test", driver.findElement(By.id("account-email")).getText());

            // 10. sign out everywhere
            driver.findElement(By.id("signout-everywhere")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("global-status"), "every device"));
            assertFalse(driver.findElement(By.id("signed-in")).isDisplayed());
        }
    }

    private static void fillPlacement(WebDriver driver, String id, String name, String cpu) {
        for (String[] f : new String[][]{{"pl-id", id}, {"pl-name", name}, {"pl-domain", DOMAIN},
                {"pl-page", "articles"}, {"pl-path", "/articles/"}, {"pl-cpu", cpu}}) {
            WebElement input = driver.findElement(By.id(f[0]));
            input.clear();
            input.sendKeys(f[1]);
        }
        driver.findElement(By.cssSelector("#placement-form button[type=submit]")).click();
    }

    /** Saves a PNG of the page for docs/publishers.md ({@link Screenshots}). */
    private static void screenshot(ChromeDriver driver, String name) throws IOException {
        Screenshots.save(driver, name);
    }

    private static String postJob() throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/api/jobs"))
                        .header("Authorization", "Bearer " + CUSTOMER_KEY)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("""
                                {"model": "synthetic-tiny-f32", "prompt": "Hello shop", "max_tokens": 4}""")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(202, response.statusCode(), response.body());
        return JSON.readTree(response.body()).get("id").asText();
    }

    private static void awaitCompleted(String jobId, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode job;
        do {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/api/jobs/" + jobId))
                    .header("Authorization", "Bearer " + CUSTOMER_KEY).GET().build(), HttpResponse.BodyHandlers.ofString());
            job = JSON.readTree(r.body());
            if ("completed".equals(job.path("status").asText())) {
                return;
            }
            Thread.sleep(250);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("job " + jobId + " not completed within " + timeout + ": " + job);
    }
}
