package io.earnidle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.earnidle.backend.EarnIdleServer;
import io.earnidle.backend.payouts.LocalChain;
import io.earnidle.testsupport.Dnsmasq;
import java.io.IOException;
import java.math.BigInteger;
import java.net.CookieManager;
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
import java.util.UUID;
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
 * A publisher creates its payout wallet in the portal with the widget's wallet bundle: a 12-word phrase shown once,
 * three words confirmed, the key kept encrypted in the browser, and the address proven to the backend by an
 * EIP-191 signature made on the device. Then, with earnings from a real job on its own DNS-verified placement, it
 * withdraws from the portal: the device key signs the EIP-712 request, the backend pays it on a ganache chain, the
 * dashboard shows the transaction, and the test reads the wallet's USDC balance on chain.
 */
class PortalWalletTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CUSTOMER_KEY = "portal-wallet-customer-key";
    private static final String EMAIL = "wallet@example.test";
    private static final String PASSWORD = "a long enough password";
    private static final String DOMAIN = "payouts.example.test";

    @TempDir
    static Path dataDir;
    static Dnsmasq dns;
    static LocalChain chain;
    static String token;
    static EarnIdleServer server;
    static String api;

    @BeforeAll
    static void startBackend() throws Exception {
        dns = Dnsmasq.start();
        chain = LocalChain.start();
        token = chain.deployTestUsdc(Credentials.create(LocalChain.DEV_KEY_0), BigInteger.valueOf(1_000_000_000_000L));
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
        m.put("earnidle.dns.resolver", dns.resolver());
        // one job pays the publisher (50 % of what is left after the 10 % fee) more than the 1 USDC minimum
        m.put("earnidle.rates.per-job-micro-usdc", "4000000");
        m.put("earnidle.rates.per-token-micro-usdc", "0");
        m.put("earnidle.payouts.rpc-url", chain.rpcUrl());
        m.put("earnidle.payouts.token-address", token);
        m.put("earnidle.payouts.treasury-key-file", keyFile.toString());
        m.put("earnidle.payouts.confirmations", "1");
        m.put("earnidle.payouts.poll-interval-ms", "300");
        server = TestBackend.start(dataDir, m);
        api = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stopBackend() throws Exception {
        if (server != null) {
            server.close();
        }
        if (chain != null) {
            chain.close();
        }
        if (dns != null) {
            dns.close();
        }
    }

    @Test
    void publisherCreatesAPayoutWalletInTheBrowserAndWithdrawsOnChain() throws Exception {
        try (Chromium chromium = Chromium.start()) {
            ChromeDriver driver = chromium.driver;
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            driver.get(api + "/portal/");
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("signup-form")));
            driver.findElement(By.id("signup-name")).sendKeys("Wallet maker");
            driver.findElement(By.id("signup-email")).sendKeys(EMAIL);
            driver.findElement(By.id("signup-password")).sendKeys(PASSWORD);
            driver.findElement(By.cssSelector("#signup-form button[type=submit]")).click();
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("signed-in")));

            wait.until(ExpectedConditions.elementToBeClickable(By.id("wallet-create"))).click();
            List<String> words = wait.until(ExpectedConditions.numberOfElementsToBe(
                    By.cssSelector("#wallet-new-words li"), 12)).stream().map(WebElement::getText).toList();
            driver.findElement(By.id("wallet-new-continue")).click();
            for (int i = 0; i < 3; i++) {
                WebElement input = wait.until(ExpectedConditions.visibilityOfElementLocated(
                        By.id("wallet-new-word-" + i)));
                input.sendKeys(i == 0 ? "wrong" : words.get(Integer.parseInt(input.getAttribute("data-position")) - 1));
            }
            driver.findElement(By.id("wallet-new-submit")).click();
            assertTrue(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("wallet-new-error"))).getText()
                    .contains("does not match"));
            WebElement first = driver.findElement(By.id("wallet-new-word-0"));
            first.clear();
            first.sendKeys(words.get(Integer.parseInt(first.getAttribute("data-position")) - 1));
            driver.findElement(By.id("wallet-new-submit")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("wallet-status"), "New wallet created"));

            String stored = (String) driver.executeAsyncScript(
                    "EarnIdleWallet.storedAddress().then(arguments[arguments.length - 1]);");
            assertTrue(stored.matches("0x[0-9a-fA-F]{40}"), stored);
            assertEquals(stored.toLowerCase(), driver.findElement(By.id("wallet-current")).getText().toLowerCase(),
                    "the backend saved the address proven by the device's signature");
            driver.executeScript("document.getElementById('wallet-title').scrollIntoView();");
            Screenshots.save(driver, "portal-wallet-created");

            // earnings: a real job on a placement of this publisher (its domain DNS-verified against dnsmasq)
            long earned = earnOneJob();
            WebDriverWait slow = new WebDriverWait(driver, Duration.ofSeconds(60));
            slow.until(d -> String.valueOf(earned).equals(
                    d.findElement(By.id("stat-balance")).getAttribute("data-micro-usdc")));

            // the form refuses bad amounts with clear messages, before anything is signed
            WebElement amount = driver.findElement(By.id("withdraw-amount"));
            amount.sendKeys("1.2345678");
            driver.findElement(By.id("withdraw-submit")).click();
            assertTrue(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("withdraw-error"))).getText()
                    .contains("at most 6 decimals"));
            assertEquals("true", amount.getAttribute("aria-invalid"));
            amount.clear();
            amount.sendKeys("0.5");
            driver.findElement(By.id("withdraw-submit")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("withdraw-error"), "minimum"));
            amount.clear();
            amount.sendKeys("1000");
            driver.findElement(By.id("withdraw-submit")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("withdraw-error"), "available"));

            // withdraw everything: signed on the device, paid on chain, shown with its transaction hash
            amount.clear();
            driver.findElement(By.id("withdraw-all")).click();
            driver.findElement(By.id("withdraw-submit")).click();
            WebElement row = slow.until(ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("#payouts tr[data-status='confirmed']")));
            String txHash = row.findElement(By.cssSelector("td[data-tx-hash]")).getAttribute("data-tx-hash");
            assertTrue(txHash.matches("0x[0-9a-f]{64}"), txHash);
            slow.until(ExpectedConditions.textToBePresentInElementLocated(By.id("withdraw-status"), "Paid: "));
            slow.until(d -> "0".equals(d.findElement(By.id("stat-balance")).getAttribute("data-micro-usdc")));
            assertTrue(!driver.findElement(By.id("withdraw-error")).isDisplayed());
            driver.executeScript("document.getElementById('payouts').scrollIntoView({block: 'center'});");
            Screenshots.save(driver, "portal-withdrawal");

            // the payout wallet's USDC balance on the ganache chain
            assertEquals(earned, chain.chain().tokenBalance(token, stored.toLowerCase()).longValueExact());
            assertTrue(chain.chain().receipt(txHash).orElseThrow().isStatusOK());
        }
    }

    /**
     * Signs in over HTTP as the same publisher, verifies a domain (TXT record in dnsmasq), creates a placement with a
     * 50 % publisher share on it, and completes one customer job as a node of that placement. Returns the
     * publisher's credit.
     */
    private static long earnOneJob() throws Exception {
        try (HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .connectTimeout(Duration.ofSeconds(5)).build()) {
            String csrf = send(http, "POST", "/api/publisher/signin", null, null,
                    "{\"email\":\"" + EMAIL + "\",\"password\":\"" + PASSWORD + "\"}", 200).get("csrf_token").asText();
            JsonNode domain = send(http, "POST", "/api/publisher/domains", csrf, null,
                    "{\"domain\":\"" + DOMAIN + "\"}", 201);
            dns.setTxt(domain.at("/record/name").asText(), domain.at("/record/value").asText());
            send(http, "POST", "/api/publisher/domains/" + domain.get("id").asText() + "/check", csrf, null, null, 200);
            send(http, "POST", "/api/publisher/placements", csrf, null, """
                    {"id": "payout-page", "name": "Payout page", "page_id": "home", "domain": "%s", "path_prefix": "/",
                     "publisher_share_bps": 5000,
                     "limits": {"cpu_share": 0.5, "gpu": false, "bandwidth_kbps": 512, "memory_mb": 1024}}"""
                    .formatted(DOMAIN), 201);
            String node = send(http, "POST", "/api/nodes", null, null,
                    "{\"placement_id\":\"payout-page\",\"capabilities\":{},\"limits\":{}}", 201)
                    .get("session_token").asText();
            String job = send(http, "POST", "/api/jobs", null, CUSTOMER_KEY,
                    "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"Pay the publisher\",\"max_tokens\":4}", 202)
                    .get("id").asText();
            JsonNode lease = send(http, "GET", "/api/inference/job", null, node, null, 200);
            assertEquals(job, lease.get("job_id").asText());
            HttpRequest result = HttpRequest.newBuilder(URI.create(api + "/api/inference/result"))
                    .header("Authorization", "Bearer " + node).header("Content-Type", "application/json")
                    .header("Idempotency-Key", UUID.randomUUID().toString())
                    .POST(HttpRequest.BodyPublishers.ofString("""
                            {"job_id":"%s","lease_id":"%s","text":" abc","token_ids":[1,2,3],"token_count":3,
                             "engine":"e2e-test","timing":{"prefill_ms":1.0,"decode_ms":2.0}}"""
                            .formatted(job, lease.get("lease_id").asText()))).build();
            HttpResponse<String> accepted = http.send(result, HttpResponse.BodyHandlers.ofString());
            assertEquals(200, accepted.statusCode(), accepted.body());
            long earned = send(http, "GET", "/api/publisher/withdrawals", null, null, null, 200)
                    .get("balance_micro_usdc").asLong();
            assertEquals((4_000_000 - 400_000) / 2, earned, "the publisher's half of the job, after the platform fee");
            return earned;
        }
    }

    private static JsonNode send(HttpClient http, String method, String path, String csrf, String bearer, String body,
                                 int expected) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(30));
        if (csrf != null) {
            b.header("X-CSRF-Token", csrf);
        }
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(expected, r.statusCode(), method + " " + path + ": " + r.body());
        return JSON.readTree(r.body());
    }
}
