package io.earnidle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.earnidle.backend.EarnIdleServer;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.payouts.LocalChain;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.web3j.crypto.Credentials;

/**
 * Issue 6's journey in headless Chromium, on a real ganache chain: a visitor on a publisher's page (another origin)
 * creates a wallet in the widget, confirms three words of the phrase, sets limits, verifies the wallet by SIWE,
 * completes a customer's job, pauses and resumes (each within a second), withdraws with an EIP-712 signature, sees
 * the transaction hash in the history, and the test reads the recipient's USDC balance on chain. Every step is
 * saved as a screenshot for docs/widget.md.
 */
class WalletJourneyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String CUSTOMER_KEY = "wallet-journey-customer-key";
    private static final String PLACEMENT = "demo-placement";

    @TempDir
    static Path dataDir;
    static LocalChain chain;
    static String token;
    static EarnIdleServer server;
    static String api;

    @BeforeAll
    static void start() throws Exception {
        chain = LocalChain.start();
        Credentials treasury = Credentials.create(LocalChain.DEV_KEY_0);
        token = chain.deployTestUsdc(treasury, BigInteger.valueOf(1_000_000_000_000L));
        Path keyFile = dataDir.resolve("treasury.key");
        Files.writeString(keyFile, LocalChain.DEV_KEY_0 + "\n");
        Map<String, String> m = new HashMap<>();
        m.put("earnidle.demo.customer-api-key", CUSTOMER_KEY);
        // paid unverified and at once, as before verification (docs/trust.md)
        m.put("earnidle.ledger.verification-window-seconds", "0");
        m.put("earnidle.trust.sample-rate", "0");
        // jobs go to the widget at once, as before capability benchmarks and the warm preference (docs/trust.md)
        m.put("earnidle.capability.benchmark.enabled", "false");
        m.put("earnidle.capability.dispatch.preference-wait-ms", "0");
        // one job pays the visitor more than the 1 USDC minimum withdrawal
        m.put("earnidle.rates.per-job-micro-usdc", "2000000");
        m.put("earnidle.payouts.rpc-url", chain.rpcUrl());
        m.put("earnidle.payouts.token-address", token);
        m.put("earnidle.payouts.treasury-key-file", keyFile.toString());
        m.put("earnidle.payouts.confirmations", "1");
        m.put("earnidle.payouts.poll-interval-ms", "300");
        server = TestBackend.start(dataDir, m);
        api = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (chain != null) {
            chain.close();
        }
    }

    @Test
    void visitorCreatesWalletVerifiesEarnsAndWithdrawsOnChain() throws Exception {
        try (HostPage host = HostPage.serve("127.0.0.2", Widget.hostHtml(api, PLACEMENT, "", ""));
             Chromium chromium = Chromium.start()) {
            ChromeDriver driver = chromium.driver;
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            driver.get(host.url());
            Widget.enter(driver, wait, PLACEMENT);

            // 1. Welcome: nothing fetched, stored or run yet (no IndexedDB database either)
            WebElement accept = wait.until(ExpectedConditions.elementToBeClickable(By.id("consent-accept")));
            Thread.sleep(300);
            assertEquals(Map.of("resources", List.of(), "localStorage", 0L, "databases", 0L),
                    driver.executeAsyncScript("""
                            const done = arguments[arguments.length - 1];
                            indexedDB.databases().then(dbs => done({
                              resources: performance.getEntriesByType('resource').map(e => e.name).filter(n =>
                                  n.includes('/node/') || n.includes('/models/') || n.includes('/api/')
                                  || n.includes('wallet.bundle')),
                              localStorage: localStorage.length, databases: dbs.length}));"""));
            Widget.screenshot(driver, PLACEMENT, "welcome");
            accept.click();

            // 2. Wallet genesis: create, the phrase shown once, confirm three words
            wait.until(ExpectedConditions.elementToBeClickable(By.id("wallet-create")));
            Widget.screenshot(driver, PLACEMENT, "wallet");
            driver.findElement(By.id("wallet-create")).click();
            List<WebElement> items = wait.until(ExpectedConditions.numberOfElementsToBe(
                    By.cssSelector("#phrase-words li"), 12));
            List<String> words = items.stream().map(WebElement::getText).toList();
            assertTrue(words.stream().allMatch(w -> w.matches("[a-z]{3,8}")), words.toString());
            Widget.screenshot(driver, PLACEMENT, "phrase");
            driver.findElement(By.id("phrase-continue")).click();
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-word-2")));
            assertEquals(0, driver.findElements(By.cssSelector("#phrase-words li")).size(),
                    "the phrase is not on screen while it is being confirmed");
            for (int i = 0; i < 3; i++) {
                driver.findElement(By.id("confirm-word-" + i)).sendKeys("wrong");
            }
            driver.findElement(By.id("confirm-submit")).click();
            String error = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("wallet-error"))).getText();
            assertTrue(error.contains("not match"), error);
            Widget.screenshot(driver, PLACEMENT, "confirm-error");
            for (int i = 0; i < 3; i++) {
                WebElement input = driver.findElement(By.id("confirm-word-" + i));
                int position = Integer.parseInt(input.getAttribute("data-position"));
                input.clear();
                input.sendKeys(words.get(position - 1));
            }
            driver.findElement(By.id("confirm-submit")).click();

            // the key is stored encrypted under a non-extractable AES-GCM key; the phrase is not stored
            @SuppressWarnings("unchecked")
            Map<String, Object> stored = (Map<String, Object>) driver.executeAsyncScript("""
                    const done = arguments[arguments.length - 1];
                    const req = indexedDB.open('earnidle-wallet');
                    req.onsuccess = () => {
                      const get = req.result.transaction('keys').objectStore('keys').get('default');
                      get.onsuccess = () => { const r = get.result; done({address: r.address,
                        extractable: r.aesKey.extractable, algorithm: r.aesKey.algorithm.name,
                        ciphertextBytes: r.ciphertext.length,
                        hasPhrase: JSON.stringify(Object.keys(r)).includes('mnemonic')}); };
                    };""");
            assertEquals(false, stored.get("extractable"));
            assertEquals("AES-GCM", stored.get("algorithm"));
            assertEquals(48L, stored.get("ciphertextBytes"), "32-byte key + 16-byte GCM tag");
            assertEquals(false, stored.get("hasPhrase"));
            String address = (String) stored.get("address");

            // 3. Hardware consent, stored per device
            wait.until(ExpectedConditions.elementToBeClickable(By.id("limits-start")));
            assertEquals("100", driver.findElement(By.id("cap-cpu")).getText(), "the demo placement caps nothing");
            Widget.screenshot(driver, PLACEMENT, "limits");
            driver.findElement(By.id("limits-start")).click();
            Object savedLimits = driver.executeScript("return JSON.parse(localStorage.getItem('earnidle.limits.v1'));");
            // the default memory is half of what the device reports (Chromium: a power of two, 0.25 to 8 GiB), and
            // a session may download that much (at least 200 MB)
            long halfDeviceMb = Math.round(((Number) driver.executeScript("return navigator.deviceMemory;"))
                    .doubleValue() * 512);
            assertEquals(Map.of("cpu_share", 0.5, "gpu", false, "memory_mb", halfDeviceMb, "bandwidth_kbps", 2048L,
                    "bandwidth_mb_per_session", Math.max(200L, halfDeviceMb), "only_when_visible", true,
                    "pause_on_battery", true), savedLimits);

            // 4. Verify the wallet (SIWE)
            wait.until(ExpectedConditions.textToBe(By.id("verify-address"), address));
            Widget.screenshot(driver, PLACEMENT, "verify");
            driver.findElement(By.id("verify-sign")).click();

            // 5. Active session: a customer's job is completed and credited to the verified wallet
            wait.until(ExpectedConditions.textToBe(By.id("session-wallet"), address));
            String jobId = postJob();
            awaitCompleted(jobId, Duration.ofSeconds(180));
            WebDriverWait slow = new WebDriverWait(driver, Duration.ofSeconds(60));
            slow.until(ExpectedConditions.textToBe(By.id("jobs-completed"), "1"));
            slow.until(d -> Long.parseLong(d.findElement(By.id("balance")).getAttribute("data-micro-usdc")) > 0);
            long earned = Long.parseLong(driver.findElement(By.id("balance")).getAttribute("data-micro-usdc"));
            assertTrue(earned >= 1_000_000, "one job pays the visitor at least the minimum withdrawal: " + earned);
            Widget.screenshot(driver, PLACEMENT, "session");

            // pause and resume take effect, as seen in the UI, within one second
            // (page clock, from the click to the state shown: Widget.millisUntilState)
            long pausedMs = Widget.millisUntilState(driver, "click",
                    () -> driver.findElement(By.id("pause-toggle")).click(), "paused", true);
            assertEquals("Resume", driver.findElement(By.id("pause-toggle")).getText());
            Widget.screenshot(driver, PLACEMENT, "paused");
            long resumedMs = Widget.millisUntilState(driver, "click",
                    () -> driver.findElement(By.id("pause-toggle")).click(), "paused", false);
            assertTrue(pausedMs <= 1000 && resumedMs <= 1000, pausedMs + " / " + resumedMs + " ms");

            // 6. Withdraw everything with an EIP-712 signature; the history shows the transaction hash
            driver.findElement(By.id("to-payouts")).click();
            wait.until(d -> Long.parseLong(d.findElement(By.id("wallet-balance")).getAttribute("data-micro-usdc"))
                    == earned);
            assertEquals(address, driver.findElement(By.id("withdraw-destination")).getAttribute("value"));
            driver.findElement(By.id("withdraw-amount")).sendKeys("0.5");
            driver.findElement(By.id("withdraw-submit")).click();
            assertTrue(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("withdraw-error"))).getText()
                    .contains("minimum"), "below the minimum is refused in the widget");
            driver.findElement(By.id("withdraw-amount")).clear();
            driver.findElement(By.id("withdraw-all")).click();
            Widget.screenshot(driver, PLACEMENT, "withdraw");
            driver.findElement(By.id("withdraw-submit")).click();
            WebElement row = slow.until(ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("#payout-history tr[data-status='confirmed']")));
            String txHash = row.findElement(By.cssSelector("td[data-tx-hash]")).getAttribute("data-tx-hash");
            assertTrue(txHash.matches("0x[0-9a-f]{64}"), txHash);
            wait.until(d -> "0".equals(d.findElement(By.id("wallet-balance")).getAttribute("data-micro-usdc")));
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("withdraw-status"), "Paid: "));
            driver.executeScript("document.getElementById('withdraw-status').scrollIntoView();");
            Widget.screenshot(driver, PLACEMENT, "payouts");

            // the recipient's USDC balance on the ganache chain
            assertEquals(earned, chain.chain().tokenBalance(token, address.toLowerCase()).longValueExact());
            assertTrue(chain.chain().receipt(txHash).orElseThrow().isStatusOK());
            assertFalse(driver.findElement(By.id("withdraw-error")).isDisplayed());
        }
    }

    @Test
    void aWalletAddedAfterSkippingClaimsWhatTheSessionEarned() throws Exception {
        try (HostPage host = HostPage.serve("127.0.0.2", Widget.hostHtml(api, PLACEMENT, "", ""));
             Chromium chromium = Chromium.start()) {
            ChromeDriver driver = chromium.driver;
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            WebDriverWait slow = new WebDriverWait(driver, Duration.ofSeconds(60));
            driver.get(host.url());
            Widget.enter(driver, wait, PLACEMENT);
            Widget.startWithoutWallet(wait);
            assertEquals("not linked", driver.findElement(By.id("session-wallet")).getText());

            // the anonymous session earns
            awaitCompleted(postJob(), Duration.ofSeconds(180));
            slow.until(ExpectedConditions.textToBe(By.id("jobs-completed"), "1"));
            slow.until(d -> Long.parseLong(d.findElement(By.id("balance")).getAttribute("data-micro-usdc")) > 0);
            long earned = Long.parseLong(driver.findElement(By.id("balance")).getAttribute("data-micro-usdc"));

            // then the visitor adds a wallet from the payouts screen and verifies it
            driver.findElement(By.id("to-payouts")).click();
            wait.until(ExpectedConditions.elementToBeClickable(By.id("payouts-add-wallet"))).click();
            wait.until(ExpectedConditions.elementToBeClickable(By.id("wallet-create"))).click();
            List<String> words = wait.until(ExpectedConditions.numberOfElementsToBe(
                    By.cssSelector("#phrase-words li"), 12)).stream().map(WebElement::getText).toList();
            driver.findElement(By.id("phrase-continue")).click();
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-word-2")));
            for (int i = 0; i < 3; i++) {
                WebElement input = driver.findElement(By.id("confirm-word-" + i));
                input.sendKeys(words.get(Integer.parseInt(input.getAttribute("data-position")) - 1));
            }
            driver.findElement(By.id("confirm-submit")).click();
            wait.until(d -> d.findElement(By.id("verify-address")).getText().matches("0x[0-9a-fA-F]{40}"));
            String address = driver.findElement(By.id("verify-address")).getText();
            driver.findElement(By.id("verify-sign")).click();

            // the running session is linked, not replaced: what it earned is the wallet's now
            slow.until(d -> Long.parseLong(d.findElement(By.id("wallet-balance")).getAttribute("data-micro-usdc"))
                    == earned);
            assertEquals(address, driver.findElement(By.id("payout-wallet")).getText());
            List<String> linked = linkedSessions(address);
            assertEquals(1, linked.size(), "the anonymous session is linked: " + linked);

            // and the same session's next job is credited to the wallet directly
            awaitCompleted(postJob(), Duration.ofSeconds(180));
            slow.until(d -> Long.parseLong(d.findElement(By.id("wallet-balance")).getAttribute("data-micro-usdc"))
                    > earned);
            assertEquals(linked, linkedSessions(address), "the same session earned it");
            assertEquals("2", driver.findElement(By.id("jobs-completed")).getAttribute("textContent"), "same session");
        }
    }

    /** The node sessions the backend has linked to {@code address}. */
    private static List<String> linkedSessions(String address) {
        return Database.list(server.backend().database().execute(), "w-linked-sessions", address.toLowerCase())
                .stream().map(r -> Database.str(r, "id")).toList();
    }

    private static String postJob() throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/api/jobs"))
                        .header("Authorization", "Bearer " + CUSTOMER_KEY)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("""
                                {"model": "synthetic-tiny-f32", "prompt": "Pay me", "max_tokens": 8}""")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(202, response.statusCode(), response.body());
        return JSON.readTree(response.body()).get("id").asText();
    }

    private static void awaitCompleted(String jobId, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode job;
        do {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/api/jobs/" + jobId))
                    .header("Authorization", "Bearer " + CUSTOMER_KEY).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            job = JSON.readTree(r.body());
            if ("completed".equals(job.path("status").asText())) {
                return;
            }
            Thread.sleep(250);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("job " + jobId + " not completed within " + timeout + ": " + job);
    }
}
