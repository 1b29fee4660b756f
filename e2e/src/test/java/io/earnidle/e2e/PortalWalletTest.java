package io.earnidle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.earnidle.backend.EarnIdleServer;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A publisher creates its payout wallet in the portal with the widget's wallet bundle: a 12-word phrase shown once,
 * three words confirmed, the key kept encrypted in the browser, and the address proven to the backend by an
 * EIP-191 signature made on the device.
 */
class PortalWalletTest {
    @TempDir
    static Path dataDir;
    static EarnIdleServer server;
    static String api;

    @BeforeAll
    static void startBackend() {
        server = EarnIdleServer.start(Config.builder()
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                .sources(ConfigSources.create(Map.of(
                                "server.host", "127.0.0.1",
                                "server.port", "0",
                                "earnidle.data-dir", dataDir.toString())),
                        ConfigSources.classpath("application.yaml"))
                .build());
        api = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stopBackend() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void publisherCreatesAPayoutWalletInTheBrowser() throws Exception {
        try (Chromium chromium = Chromium.start()) {
            ChromeDriver driver = chromium.driver;
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            driver.get(api + "/portal/");
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("signup-form")));
            driver.findElement(By.id("signup-name")).sendKeys("Wallet maker");
            driver.findElement(By.id("signup-email")).sendKeys("wallet@example.test");
            driver.findElement(By.id("signup-password")).sendKeys("a long enough password");
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
            Files.write(Widget.imgDir().resolve("portal-wallet-created.png"), driver.getScreenshotAs(OutputType.BYTES));
        }
    }
}
