package io.earnidle.e2e;

import java.io.IOException;
import java.time.Duration;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/** Steps through the visitor's widget (widget-embed's iframe) and saves screenshots for docs/widget.md. */
final class Widget {
    private Widget() {
    }

    /** A host page (publisher) that embeds {@code placement} with the one-line loader, plus optional extra HTML. */
    static String hostHtml(String api, String placement, String extraHead, String extraBody) {
        return """
                <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host page</title>%s</head>
                <body style="font:16px system-ui,sans-serif;margin:16px">
                <h1 style="font-size:20px;margin:0 0 8px">A publisher's article</h1>
                <div id="slot" style="max-width:480px">
                <script src="%s/embed.js" data-placement="%s" async></script>
                </div>
                <p id="after">The article goes on below the widget.</p>
                %s
                </body></html>""".formatted(extraHead, api, placement, extraBody);
    }

    /** Waits for the widget's iframe and switches into it. */
    static WebElement enter(WebDriver driver, WebDriverWait wait, String placement) {
        driver.switchTo().defaultContent();
        WebElement frame = wait.until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("iframe[data-earnidle-placement='" + placement + "']")));
        wait.until(ExpectedConditions.frameToBeAvailableAndSwitchToIt(frame));
        return frame;
    }

    /** Welcome → skip the wallet → default limits → the session starts (an anonymous session). */
    static void startWithoutWallet(WebDriverWait wait) {
        wait.until(ExpectedConditions.elementToBeClickable(By.id("consent-accept"))).click();
        wait.until(ExpectedConditions.elementToBeClickable(By.id("wallet-skip"))).click();
        wait.until(ExpectedConditions.elementToBeClickable(By.id("limits-start"))).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("session")));
    }

    /**
     * Saves a PNG of the widget's iframe as widget-NAME.png ({@link Screenshots}) and switches back into it. The
     * driver must be inside the iframe of {@code placement} when called.
     */
    static void screenshot(ChromeDriver driver, String placement, String name) throws IOException {
        driver.switchTo().defaultContent();
        WebElement frame = driver.findElement(By.cssSelector("iframe[data-earnidle-placement='" + placement + "']"));
        Screenshots.save(frame, "widget-" + name);
        driver.switchTo().frame(frame);
    }

    /** Milliseconds until the #state element's data-state satisfies the wanted value, or fails after 1 s. */
    static long millisUntilState(WebDriver driver, String wanted, boolean equal) {
        long start = System.nanoTime();
        new WebDriverWait(driver, Duration.ofSeconds(1), Duration.ofMillis(20)).until(d -> {
            String state = d.findElement(By.id("state")).getAttribute("data-state");
            return equal == wanted.equals(state);
        });
        return (System.nanoTime() - start) / 1_000_000;
    }
}
