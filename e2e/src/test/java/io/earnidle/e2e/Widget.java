package io.earnidle.e2e;

import java.io.IOException;
import java.time.Duration;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
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

    /**
     * Runs {@code action} (a click, a key or a host request that changes the widget's state; the driver is inside
     * the widget's iframe before and after it) and returns the milliseconds, on the page's own clock, from the first
     * {@code inputType} event ("click" for a click or Enter on a button, "message" for a host page's request) to the
     * first change of the #state element's data-state that satisfies the wanted value. The page clock leaves out
     * the WebDriver round trips, whose length depends on the machine; waiting for the change itself is bounded
     * generously (30 s).
     */
    static long millisUntilState(WebDriver driver, String inputType, Runnable action, String wanted, boolean equal) {
        JavascriptExecutor js = (JavascriptExecutor) driver;
        js.executeScript("""
                const el = document.getElementById('state');
                window.stateLog = [];
                window.inputLog = [];
                if (window.stateObserver) { window.stateObserver.disconnect(); }
                window.stateObserver = new MutationObserver(() =>
                    window.stateLog.push({state: el.getAttribute('data-state'), t: performance.now()}));
                window.stateObserver.observe(el, {attributes: true, attributeFilter: ['data-state']});
                if (!window.inputWatched) {
                  window.inputWatched = true;
                  for (const type of ['click', 'message']) {
                    window.addEventListener(type, e => window.inputLog.push({type: type, t: e.timeStamp}), true);
                  }
                }""");
        action.run();
        String script = """
                const input = window.inputLog.find(i => i.type === arguments[0]);
                if (!input) { return null; }
                const hit = window.stateLog.find(s => s.t >= input.t && (s.state === arguments[1]) === arguments[2]);
                return hit ? hit.t - input.t : null;""";
        Object ms = new WebDriverWait(driver, Duration.ofSeconds(30), Duration.ofMillis(50))
                .until(d -> js.executeScript(script, inputType, wanted, equal));
        return Math.round(((Number) ms).doubleValue());
    }
}
