package io.earnidle.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.EarnIdleServer;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The walking skeleton, end to end: a publisher's page on another origin embeds the widget with the one-line
 * loader; the visitor consents inside the iframe; the node (Java compiled to WebAssembly, in a Worker) completes a
 * job that a customer submitted through the API; the customer reads the result, and the node's credited balance is
 * read back through the API.
 */
class WalkingSkeletonTest {
    private static final String CUSTOMER_KEY = "e2e-customer-key";

    @TempDir
    static Path dataDir;
    static EarnIdleServer server;
    static String api;
    static CustomerApi customer;

    @BeforeAll
    static void startBackend() {
        server = TestBackend.start(dataDir, Map.of(
                "earnidle.demo.customer-api-key", CUSTOMER_KEY,
                // the widget's node gets the customer's job at once, as before capability
                // benchmarks and the warm preference (docs/trust.md)
                "earnidle.capability.benchmark.enabled", "false",
                "earnidle.capability.dispatch.preference-wait-ms", "0",
                // every result verified (a session without a wallet is in Probation: rate 1.0)
                // by the backend's teacher-forced JVM check; credits available as soon as it passed
                "earnidle.ledger.verification-window-seconds", "0",
                // one customer job, no canary after it (docs/trust.md)
                "earnidle.trust.canary.rate", "0"));
        api = "http://127.0.0.1:" + server.port();
        customer = new CustomerApi(api, CUSTOMER_KEY);
    }

    @AfterAll
    static void stopBackend() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void visitorOnAnotherOriginCompletesACustomersJobAndIsCredited() throws Exception {
        String hostHtml = """
                <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host page</title></head>
                <body><h1>A publisher's article</h1>
                <script src="%s/embed.js" data-placement="demo-placement" async></script>
                </body></html>""".formatted(api);

        try (HostPage host = HostPage.serve("127.0.0.2", hostHtml); Chromium chromium = Chromium.start()) {
            var driver = chromium.driver;
            var wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            driver.get(host.url());

            WebElement frame = wait.until(ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("iframe[data-earnidle-placement='demo-placement']")));
            assertTrue(frame.getAttribute("src").startsWith(api + "/widget/"),
                    "the iframe is served from the widget origin, not the host page: " + frame.getAttribute("src"));
            assertTrue(!host.url().startsWith(api), "host page and widget must be on different origins");
            wait.until(ExpectedConditions.frameToBeAvailableAndSwitchToIt(frame));
            WebElement accept = wait.until(ExpectedConditions.elementToBeClickable(By.id("consent-accept")));

            // Before consent: no node code, no model, no API call, nothing stored.
            Thread.sleep(500);
            Object beforeConsent = driver.executeScript("""
                    return {
                      resources: performance.getEntriesByType('resource').map(e => e.name)
                          .filter(n => n.includes('/node/') || n.includes('/models/') || n.includes('/api/')),
                      localStorage: localStorage.length, sessionStorage: sessionStorage.length,
                      cookies: document.cookie
                    };""");
            assertEquals(Map.of("resources", java.util.List.of(), "localStorage", 0L, "sessionStorage", 0L,
                    "cookies", ""), beforeConsent, "nothing is fetched, run or stored before the visitor consents");
            accept.click();
            // The visitor skips the wallet (it can be added before withdrawing) and agrees to the default limits.
            wait.until(ExpectedConditions.elementToBeClickable(By.id("wallet-skip"))).click();
            wait.until(ExpectedConditions.elementToBeClickable(By.id("limits-start"))).click();

            JsonNode submitted = customer.postJob("""
                    {"model": "synthetic-tiny-f32", "prompt": "Hello from the e2e test", "max_tokens": 8,
                     "sampling": {"temperature": 0, "seed": 7}}""");
            String jobId = submitted.get("id").asText();
            assertEquals("queued", submitted.get("status").asText());

            JsonNode job = customer.awaitCompleted(jobId, Duration.ofSeconds(180));
            // the browser engine's result passed the backend's re-execution with the node's Java engine
            assertEquals("passed", job.get("verification").asText(), job.toString());
            JsonNode result = job.get("result");
            int[] ids = StreamSupport.stream(result.get("token_ids").spliterator(), false)
                    .mapToInt(JsonNode::asInt).toArray();
            assertEquals(ids.length, result.get("token_count").asInt());
            assertTrue(ids.length >= 1 && ids.length <= 8, "token count within max_tokens: " + ids.length);

            // The browser really ran the Llama forward pass: greedy output equals the JVM's, token for token.
            LlamaModel model = LlamaModel.load(dataDir.resolve("models/synthetic-tiny-f32.gguf"));
            GenerationResult expected = model.generate(new GenerationRequest(
                    "Hello from the e2e test", null, true, 8, Sampling.greedy()));
            assertArrayEquals(expected.tokenIds(), ids, "tokens generated in the browser match the JVM reference");
            assertEquals(expected.text(), result.get("text").asText());

            // The widget shows the credit once verified (the node refreshes pending earnings), and the API agrees.
            wait.until(ExpectedConditions.textToBe(By.id("jobs-completed"), "1"));
            String sessionId = driver.findElement(By.id("session-id")).getText();
            JsonNode session = customer.getJson("/api/nodes/" + sessionId, null);
            long balance = session.get("balance_micro_usdc").asLong();
            assertEquals(1, session.get("jobs_completed").asInt());
            assertEquals(0, session.get("pending_micro_usdc").asLong(), "nothing pending once verified: " + session);
            assertTrue(balance > 0 && balance < job.get("price_micro_usdc").asLong(),
                    "the visitor is paid a share of the job's price: " + balance);
            new WebDriverWait(driver, Duration.ofSeconds(120)).until(ExpectedConditions.attributeToBe(
                    By.id("balance"), "data-micro-usdc", String.valueOf(balance)));

            // The session panel links to the visitor's public worker card and receipts (docs/stats.md); the card
            // page shows the verified job, and the stats page charts it.
            String cardUrl = driver.findElement(By.id("worker-card-link")).getAttribute("href");
            assertEquals(api + "/workers/" + sessionId, cardUrl);
            assertEquals(api + "/verify/#session=" + sessionId,
                    driver.findElement(By.id("receipts-link")).getAttribute("href"));
            driver.switchTo().defaultContent();
            driver.get(cardUrl);
            wait.until(ExpectedConditions.textToBe(By.id("jobs-done"), "1"));
            assertEquals("100.0 %", driver.findElement(By.id("pass-rate")).getText());
            assertEquals(session.get("tier").asText(), driver.findElement(By.id("tier")).getText());
            driver.get(api + "/stats/");
            wait.until(d -> !d.findElements(By.cssSelector("#jobs-24h canvas")).isEmpty());
            assertEquals(6, driver.findElements(By.cssSelector(".chart canvas")).size(), "three charts per range");
            assertEquals("1 passed, 0 failed, 0 pending, 0 not sampled (pass rate 100.0 %)",
                    driver.findElement(By.id("verification")).getText());
        }
    }

    @Test
    void portalListsTheDemoPlacementWithItsEmbedCode() throws Exception {
        try (Chromium chromium = Chromium.start()) {
            var driver = chromium.driver;
            driver.get(api + "/portal/");
            var wait = new WebDriverWait(driver, Duration.ofSeconds(20));
            WebElement row = wait.until(ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("tr[data-placement-id='demo-placement']")));
            assertTrue(row.getText().contains("20.00 %"), row.getText());
            assertTrue(row.getText().contains(api + "/embed.js"), row.getText());
        }
    }
}
