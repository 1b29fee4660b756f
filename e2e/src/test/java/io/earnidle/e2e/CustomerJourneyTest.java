package io.earnidle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.earnidle.backend.EarnIdleServer;
import io.earnidle.backend.payouts.LocalChain;
import io.earnidle.backend.wallets.EthSignatures;
import io.earnidle.backend.wallets.SiweMessage;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

/**
 * The customer's journey in headless Chromium: sign up in the portal, create an API key (shown once), deposit test
 * USDC on a real local chain (ganache and the TestUsdc token: the customer proves its wallet with SIWE under the new
 * key, sends USDC to the treasury, and the deposit watcher credits it after its confirmations), run a job through the
 * API with that key on a visitor's widget, and watch the balance, the usage figures and the charts move without a
 * reload; then revoke the key and see the API refuse it.
 */
class CustomerJourneyTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long FUNDING = 5_000_000;
    private static final int CONFIRMATIONS = 2;

    @TempDir
    static Path dataDir;
    static EarnIdleServer server;
    static String api;
    static LocalChain chain;
    static Credentials treasury;
    static String token;

    @BeforeAll
    static void startBackend() throws Exception {
        chain = LocalChain.start();
        treasury = Credentials.create(LocalChain.DEV_KEY_0);
        token = chain.deployTestUsdc(treasury, BigInteger.valueOf(1_000_000_000_000L));
        server = TestBackend.start(dataDir, Map.of(
                "earnidle.deposits.rpc-url", chain.rpcUrl(),
                "earnidle.deposits.token-address", token,
                "earnidle.deposits.treasury-address", treasury.getAddress(),
                "earnidle.deposits.confirmations", String.valueOf(CONFIRMATIONS),
                "earnidle.deposits.poll-interval-ms", "300",
                // the widget's node gets the customer's job at once (docs/trust.md)
                "earnidle.capability.benchmark.enabled", "false",
                "earnidle.capability.dispatch.preference-wait-ms", "0",
                // the result is verified by the backend's JVM check; credits available once it passed
                "earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.canary.rate", "0"));
        api = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stopBackend() {
        if (server != null) {
            server.close();
        }
        if (chain != null) {
            chain.close();
        }
    }

    private static HttpResponse<String> post(String path, String apiKey, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * What the customer's wallet software does: prove the wallet with SIWE under the API key, then send USDC to the
     * treasury; the chain then gets the confirmations the watcher waits for.
     */
    private static void depositOnChain(String apiKey, long microUsdc) throws Exception {
        Credentials wallet = Credentials.create(LocalChain.DEV_KEY_1);
        JsonNode nonce = JSON.readTree(post("/api/wallets/siwe/nonce", null, "{}").body());
        String domain = nonce.path("domain").asText();
        Instant now = Instant.now();
        String message = new SiweMessage("http", domain, EthSignatures.checksum(wallet.getAddress()),
                "Use this wallet for Earn Idle deposits.", "http://" + domain, "1", nonce.path("chain_id").asLong(),
                nonce.path("nonce").asText(), now, now.plusSeconds(600), null, null, null).format();
        Sign.SignatureData sig = Sign.signPrefixedMessage(message.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                wallet.getEcKeyPair());
        byte[] rsv = new byte[65];
        System.arraycopy(sig.getR(), 0, rsv, 0, 32);
        System.arraycopy(sig.getS(), 0, rsv, 32, 32);
        rsv[64] = sig.getV()[0];
        String body = JSON.createObjectNode().put("message", message).put("signature", Numeric.toHexString(rsv))
                .toString();
        HttpResponse<String> proved = post("/api/deposits/wallets", apiKey, body);
        assertTrue(proved.statusCode() / 100 == 2, proved.statusCode() + " " + proved.body());
        chain.transferToken(treasury, token, wallet.getAddress(), BigInteger.valueOf(microUsdc)); // the wallet's USDC
        chain.transferToken(wallet, token, treasury.getAddress(), BigInteger.valueOf(microUsdc)); // the deposit
        for (int i = 0; i < CONFIRMATIONS; i++) {
            chain.mine();
        }
    }

    private static long micro(ChromeDriver driver, String id) {
        return Long.parseLong(driver.findElement(By.id(id)).getAttribute("data-micro-usdc"));
    }

    @Test
    void customerSignsUpCreatesAKeyIsFundedRunsAJobAndSeesUsage() throws Exception {
        try (HostPage host = HostPage.serve("127.0.0.2", Widget.hostHtml(api, "demo-placement", "", ""));
             Chromium chromium = Chromium.start()) {
            ChromeDriver driver = chromium.driver;
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));

            // 1. sign up
            driver.get(api + "/portal/");
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("signup-form")));
            driver.findElement(By.id("signup-name")).sendKeys("API customer");
            driver.findElement(By.id("signup-email")).sendKeys("dev@customer.example.test");
            driver.findElement(By.id("signup-password")).sendKeys("a long enough password");
            driver.findElement(By.cssSelector("#signup-form button[type=submit]")).click();
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("customer")));
            assertTrue(driver.findElement(By.id("keys-empty")).isDisplayed());

            // 2. create a key: the secret is shown once, the list shows its name and prefix
            driver.findElement(By.id("key-name")).sendKeys("journey <server>");
            driver.findElement(By.cssSelector("#key-form button[type=submit]")).click();
            String secret = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("key-secret"))).getText();
            assertTrue(secret.matches("ei_sk_[0-9a-f]{64}"), secret);
            WebElement row = wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#keys tbody tr")));
            assertEquals("journey <server>", row.findElements(By.tagName("td")).get(0).getText());
            assertEquals(secret.substring(0, 12) + "…", row.findElements(By.tagName("td")).get(1).getText());
            assertEquals("active", row.findElement(By.className("key-status")).getText());

            // 3. a USDC deposit on the chain: the balance shows it without a reload once it is confirmed
            depositOnChain(secret, FUNDING);
            wait.until(ExpectedConditions.attributeToBe(By.id("cust-balance"), "data-micro-usdc",
                    String.valueOf(FUNDING)));
            assertEquals("0", driver.findElement(By.id("spend-chart")).getAttribute("data-total-micro-usdc"));
            assertEquals(1, driver.findElements(By.cssSelector("#spend-chart canvas")).size(), "the chart is drawn");
            String portalTab = driver.getWindowHandle();

            // 4. a visitor's widget serves the job that the customer submits through the API with the new key
            driver.switchTo().newWindow(WindowType.TAB);
            driver.get(host.url());
            Widget.enter(driver, wait, "demo-placement");
            Widget.startWithoutWallet(wait);
            CustomerApi customer = new CustomerApi(api, secret);
            JsonNode submitted = customer.postJob("""
                    {"model": "synthetic-tiny-f32", "prompt": "Hello from the customer journey", "max_tokens": 8,
                     "sampling": {"temperature": 0, "seed": 3}}""");
            JsonNode job = customer.awaitCompleted(submitted.get("id").asText(), Duration.ofSeconds(180));
            int tokens = job.get("result").get("token_count").asInt();

            // 5. balance, usage and charts move on the portal tab, which stayed open
            driver.switchTo().window(portalTab);
            WebDriverWait poll = new WebDriverWait(driver, Duration.ofSeconds(30));
            poll.until(d -> !"0".equals(d.findElement(By.id("spend-chart")).getAttribute("data-total-micro-usdc")));
            long spent = Long.parseLong(driver.findElement(By.id("spend-chart")).getAttribute("data-total-micro-usdc"));
            assertTrue(spent > 0 && spent <= submitted.get("price_micro_usdc").asLong(), "spent " + spent);
            poll.until(ExpectedConditions.attributeToBe(By.id("cust-balance"), "data-micro-usdc",
                    String.valueOf(FUNDING - spent)));
            assertEquals(FUNDING - spent, micro(driver, "cust-balance"));
            assertEquals(String.valueOf(tokens), driver.findElement(By.id("cust-tokens")).getText());
            assertEquals(String.valueOf(tokens),
                    driver.findElement(By.id("tokens-chart")).getAttribute("data-total-tokens"));
            assertTrue(driver.findElement(By.id("cust-p50")).getText().matches("\\d+"),
                    driver.findElement(By.id("cust-p50")).getText());
            String groups = driver.findElement(By.id("usage-groups")).getText();
            assertTrue(groups.contains("model synthetic-tiny-f32") && groups.contains("key journey <server>"), groups);
            assertEquals(1, driver.findElements(By.cssSelector("#tokens-chart canvas")).size());

            // 6. revoke the key: listed as revoked, refused by the API
            driver.findElement(By.cssSelector("#keys .key-revoke")).click();
            wait.until(ExpectedConditions.alertIsPresent()).accept();
            wait.until(ExpectedConditions.textMatches(By.cssSelector("#keys .key-status"),
                    java.util.regex.Pattern.compile("^revoked")));
            HttpResponse<String> refused = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/v1/models"))
                    .header("Authorization", "Bearer " + secret).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, refused.statusCode(), refused.body());
        }
    }
}
