package io.earnidle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.EarnIdleServer;
import io.earnidle.backend.db.Database;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The receipt verifier (/verify/, docs/receipts.md) in headless Chromium on receipts of real jobs: the widget's node
 * runs two customer jobs, with a key rotation between them, and the page verifies the session's chain with WebCrypto
 * against the published keys only. Every single changed byte of a receipt or of a signature, and every change of
 * the chain's order, is caught and named; so is a chain the server itself serves tampered.
 */
class ReceiptVerifyTest {
    private static final String CUSTOMER_KEY = "e2e-receipts-key";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dataDir;
    static EarnIdleServer server;
    static String api;
    static CustomerApi customer;
    static String sessionId;
    static String oldKid;
    static String newKid;

    @BeforeAll
    static void runTwoJobsThroughTheWidgetAcrossAKeyRotation() throws Exception {
        server = TestBackend.start(dataDir, Map.of(
                "earnidle.demo.customer-api-key", CUSTOMER_KEY,
                "earnidle.capability.benchmark.enabled", "false",
                "earnidle.capability.dispatch.preference-wait-ms", "0",
                "earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.canary.rate", "0",
                // the replaced key's period ends at the rotation: its receipts verify only within it
                "earnidle.receipts.rotation-overlap-seconds", "0"));
        api = "http://127.0.0.1:" + server.port();
        customer = new CustomerApi(api, CUSTOMER_KEY);
        try (HostPage host = HostPage.serve("127.0.0.2", Widget.hostHtml(api, "demo-placement", "", ""));
             Chromium chromium = Chromium.start()) {
            WebDriver driver = chromium.driver;
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            driver.get(host.url());
            Widget.enter(driver, wait, "demo-placement");
            Widget.startWithoutWallet(wait);
            runJob("Receipts for everyone");
            sessionId = driver.findElement(By.id("session-id")).getText();
            // the widget's session panel links to the session's chain on the verify page
            assertEquals(api + "/verify/#session=" + sessionId,
                    driver.findElement(By.id("receipts-link")).getAttribute("href"));
            oldKid = chain().get(0).path("kid").asText();
            newKid = server.backend().verification().receipts().keys().rotate(server.backend().database(),
                    server.backend().ledger().now());
            runJob("Signed after the rotation");
        }
    }

    private static void runJob(String prompt) throws Exception {
        String id = customer.postJob("""
                {"model": "synthetic-tiny-f32", "prompt": "%s", "max_tokens": 6,
                 "sampling": {"temperature": 0, "seed": 7}}""".formatted(prompt)).get("id").asText();
        JsonNode job = customer.awaitCompleted(id, Duration.ofSeconds(180));
        assertEquals("passed", job.get("verification").asText(), job.toString());
    }

    private static List<JsonNode> chain() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        customer.getJson("/api/nodes/" + sessionId + "/receipts", null).path("receipts").forEach(out::add);
        return out;
    }

    @AfterAll
    static void stopBackend() {
        if (server != null) {
            server.close();
        }
    }

    /** Opens the verify page at {@code hash} and waits for its verdict. */
    private static WebElement verdict(WebDriver driver, String hash) {
        driver.get(api + "/verify/" + hash);
        WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
        wait.until(d -> !d.findElement(By.id("summary")).getAttribute("data-ok").isEmpty());
        return driver.findElement(By.id("summary"));
    }

    /** Pastes {@code json} into the page and presses Verify; returns the summary once it changed. */
    private static WebElement paste(WebDriver driver, String json) {
        WebElement summary = driver.findElement(By.id("summary"));
        ((JavascriptExecutor) driver).executeScript("""
                document.getElementById('summary').dataset.ok = '';
                document.getElementById('input').value = arguments[0];""", json);
        driver.findElement(By.id("verify")).click();
        new WebDriverWait(driver, Duration.ofSeconds(30)).until(d -> !summary.getAttribute("data-ok").isEmpty());
        return summary;
    }

    @Test
    void theRealChainVerifiesAcrossTheKeyRotation() throws Exception {
        List<JsonNode> chain = chain();
        assertEquals(List.of("result", "verification", "result", "verification"),
                chain.stream().map(s -> s.path("receipt").path("kind").asText()).toList());
        assertEquals(oldKid, chain.get(1).path("kid").asText());
        assertEquals(newKid, chain.get(2).path("kid").asText());
        assertNotEquals(oldKid, newKid);
        JsonNode oldKey = null;
        for (JsonNode k : customer.getJson("/.well-known/earnidle-receipt-keys.json", null).path("keys")) {
            oldKey = k.path("kid").asText().equals(oldKid) ? k : oldKey;
        }
        assertTrue(oldKey != null && oldKey.has("exp"), "the rotated-out key's period has ended: " + oldKey);
        try (Chromium chromium = Chromium.start()) {
            WebElement summary = verdict(chromium.driver, "#session=" + sessionId);
            assertEquals("true", summary.getAttribute("data-ok"), summary.getText());
            assertEquals("✓ all 4 receipts verified", summary.getText());
            List<WebElement> rows = chromium.driver.findElements(By.cssSelector("#results tbody tr"));
            assertEquals(4, rows.size());
            for (WebElement row : rows) {
                assertEquals("true", row.getAttribute("data-ok"), row.getText());
                assertTrue(row.findElement(By.className("verdict")).getText().equals("✓"));
            }
        }
    }

    @Test
    void everyChangedByteOfAReceiptOrSignatureAndEveryReorderingFailsWithItsReason() throws Exception {
        String chainJson = customer.getJson("/api/nodes/" + sessionId + "/receipts", null).toString();
        try (Chromium chromium = Chromium.start()) {
            WebDriver driver = chromium.driver;
            verdict(driver, "#session=" + sessionId);
            // a few thousand verifications in one script: bounded well above what they take
            driver.manage().timeouts().scriptTimeout(Duration.ofMinutes(5));
            // in the page: each receipt's canonical text and signature changed one byte at a time, and each pair of
            // neighbours swapped; the page's own verifier must reject every variant and blame the changed receipt
            @SuppressWarnings("unchecked")
            Map<String, Object> out = (Map<String, Object>) ((JavascriptExecutor) driver).executeAsyncScript("""
                    const done = arguments[arguments.length - 1];
                    (async () => {
                      const v = await import('/verify/receipt-verifier.js');
                      const chain = JSON.parse(arguments[0]);
                      const jwks = await (await fetch('/.well-known/earnidle-receipt-keys.json')).json();
                      const other = c => /[0-9]/.test(c) ? String((Number(c) + 1) % 10)
                          : /[a-y]/i.test(c) ? String.fromCharCode(c.charCodeAt(0) + 1) : c === 'z' ? 'a'
                          : c === 'Z' ? 'A' : c === '-' ? '_' : c === '_' ? '-' : c === ' ' ? '!' : ' ';
                      const missed = [];
                      let variants = 0, unparsable = 0;
                      for (let i = 0; i < chain.receipts.length; i++) {
                        const text = v.canonicalize(chain.receipts[i].receipt);
                        for (let p = 0; p < text.length; p++) {
                          const changed = text.slice(0, p) + other(text[p]) + text.slice(p + 1);
                          let receipt;
                          try { receipt = JSON.parse(changed); } catch { unparsable++; continue; }
                          const items = chain.receipts.slice(0, i + 1).map(x => ({...x}));
                          items[i] = {...items[i], receipt};
                          const r = await v.verifyReceipts(items, jwks, {fromStart: true});
                          variants++;
                          if (r.ok || r.firstBroken.index !== i || !r.firstBroken.reason) missed.push('receipt ' + i + '@' + p);
                        }
                        const sig = chain.receipts[i].signature;
                        for (let p = 0; p < sig.length; p++) {
                          const items = chain.receipts.slice(0, i + 1).map(x => ({...x}));
                          items[i].signature = sig.slice(0, p) + other(sig[p]) + sig.slice(p + 1);
                          const r = await v.verifyReceipts(items, jwks, {fromStart: true});
                          variants++;
                          if (r.ok || r.firstBroken.index !== i || !/^signature/.test(r.firstBroken.reason)) missed.push('signature ' + i + '@' + p);
                        }
                      }
                      for (let i = 0; i + 1 < chain.receipts.length; i++) {
                        const items = chain.receipts.slice();
                        [items[i], items[i + 1]] = [items[i + 1], items[i]];
                        const r = await v.verifyReceipts(items, jwks, {fromStart: true});
                        variants++;
                        if (r.ok || !/^field prev/.test(r.firstBroken.reason)) missed.push('swap ' + i);
                      }
                      done({variants, unparsable, missed});
                    })().catch(e => done({error: String(e)}));""", chainJson);
            assertEquals(null, out.get("error"));
            assertEquals(List.of(), out.get("missed"), "variants the verifier accepted or blamed wrongly");
            assertTrue(((Number) out.get("variants")).intValue() > 1000, out.toString());

            // and through the page's own form: the reason is shown
            JsonNode chain = JSON.readTree(chainJson);
            ObjectNode altered = chain.deepCopy();
            ObjectNode price = (ObjectNode) altered.path("receipts").get(2).path("receipt").path("price");
            price.put("node_micro_usdc", price.path("node_micro_usdc").asLong() + 1);
            price.put("platform_micro_usdc", price.path("platform_micro_usdc").asLong() - 1);
            WebElement summary = paste(driver, altered.toString());
            assertEquals("false", summary.getAttribute("data-ok"));
            assertTrue(summary.getText().startsWith("✗ receipt #3 ("), summary.getText());
            assertTrue(summary.getText().contains("signature: does not match"), summary.getText());

            ObjectNode badSignature = chain.deepCopy();
            ObjectNode second = (ObjectNode) badSignature.path("receipts").get(1);
            String sig = second.path("signature").asText();
            second.put("signature", (sig.charAt(0) == 'A' ? "B" : "A") + sig.substring(1));
            summary = paste(driver, badSignature.toString());
            assertTrue(summary.getText().startsWith("✗ receipt #2 ("), summary.getText());
            assertTrue(summary.getText().contains("signature"), summary.getText());

            ObjectNode reordered = chain.deepCopy();
            JsonNode third = reordered.path("receipts").get(2);
            ArrayNode list = (ArrayNode) reordered.path("receipts");
            list.set(2, list.get(3));
            list.set(3, third);
            summary = paste(driver, reordered.toString());
            assertTrue(summary.getText().startsWith("✗ receipt #3 ("), summary.getText());
            assertTrue(summary.getText().contains("field prev: is not the SHA-256 of receipt #2"), summary.getText());
            List<WebElement> rows = driver.findElements(By.cssSelector("#results tbody tr[data-ok='false']"));
            assertTrue(!rows.isEmpty() && rows.get(0).getText().contains("✗"));
        }
    }

    @Test
    void theWorkerCardShowsTheJobsAndLinksToTheChain() throws Exception {
        try (Chromium chromium = Chromium.start()) {
            WebDriver driver = chromium.driver;
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            driver.get(api + "/workers/" + sessionId);
            wait.until(ExpectedConditions.textToBe(By.id("jobs-done"), "2"));
            assertEquals("100.0 %", driver.findElement(By.id("pass-rate")).getText());
            assertEquals(api + "/verify/#session=" + sessionId,
                    driver.findElement(By.id("receipts")).getAttribute("href"));
        }
    }

    @Test
    void aChainTheServerItselfServesTamperedIsRejected() throws Exception {
        JsonNode first = chain().get(0);
        String id = first.path("receipt").path("id").asText();
        Database db = server.backend().database();
        String original = Database.str(db.execute().query("SELECT body_json FROM receipts WHERE id = ?", id)
                .findFirst().orElseThrow(), "body_json");
        // the server now serves a receipt that pays the node more than it signed
        ObjectNode receipt = (ObjectNode) JSON.readTree(original);
        ObjectNode price = (ObjectNode) receipt.path("price");
        price.put("node_micro_usdc", price.path("node_micro_usdc").asLong() + 100);
        price.put("total_micro_usdc", price.path("total_micro_usdc").asLong() + 100);
        db.execute().dml("UPDATE receipts SET body_json = ? WHERE id = ?", receipt.toString(), id);
        try (Chromium chromium = Chromium.start()) {
            WebElement summary = verdict(chromium.driver, "#session=" + sessionId);
            assertEquals("false", summary.getAttribute("data-ok"), summary.getText());
            assertTrue(summary.getText().startsWith("✗ receipt #1 (" + id + "): signature: does not match"),
                    summary.getText());
        } finally {
            db.execute().dml("UPDATE receipts SET body_json = ? WHERE id = ?", original, id);
        }
    }
}
