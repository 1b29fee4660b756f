package io.earnidle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.EarnIdleServer;
import io.earnidle.backend.models.ModelCatalog;
import io.earnidle.backend.models.Models;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The browser engine's results through the backend's verifier (docs/trust.md, issue 19): the widget's node (Java
 * compiled to WebAssembly with the SIMD kernels, in headless Chromium without a GPU) answers customer jobs that are
 * sampled (temperature, top-k, top-p, a seed) and run on quantized synthetic models (Q8_0 and Q4_0) as well as the
 * F32 one. Its session has no wallet, so it is in Probation and every result is verified (tier rate 1.0); canaries are
 * off so only customer jobs reach it, and capability benchmarks are off (CapabilityTest covers them; here they would
 * add an unpaid job before the first customer one). Every result must pass (no false positive) and be paid.
 */
class BrowserEngineVerificationTest {
    private static final String CUSTOMER_KEY = "e2e-customer-key";
    private static final String SAMPLED = "{\"temperature\": 0.9, \"top_k\": 40, \"top_p\": 0.95, \"seed\": %d}";

    @TempDir
    static Path dataDir;
    @TempDir
    static Path synthDir;
    static EarnIdleServer server;
    static String api;
    static CustomerApi customer;

    @BeforeAll
    static void startBackend() throws IOException {
        server = TestBackend.start(dataDir, Map.of(
                "earnidle.demo.customer-api-key", CUSTOMER_KEY,
                "earnidle.capability.benchmark.enabled", "false",
                "earnidle.capability.dispatch.preference-wait-ms", "0",
                "earnidle.ledger.verification-window-seconds", "0",
                "earnidle.trust.canary.rate", "0"));
        api = "http://127.0.0.1:" + server.port();
        customer = new CustomerApi(api, CUSTOMER_KEY);
        ModelCatalog catalog = new ModelCatalog(server.backend().database(),
                new Models(server.backend().database(), dataDir.resolve("models")));
        for (String type : List.of("q8_0", "q4_0")) {
            Path file = synthDir.resolve("tiny-" + type + ".gguf");
            ModelSynthesizer.write(file, SynthShape.TINY, SynthFileType.named(type), 11, null);
            catalog.add(file, "synthetic-tiny-" + type, null, Instant.now());
        }
    }

    @AfterAll
    static void stopBackend() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void sampledAndQuantizedJobsFromTheWasmEnginePassVerificationAndArePaid() throws Exception {
        try (HostPage host = HostPage.serve("127.0.0.2", Widget.hostHtml(api, "demo-placement", "", ""));
             Chromium chromium = Chromium.start()) {
            var driver = chromium.driver;
            var wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            driver.get(host.url());
            Widget.enter(driver, wait, "demo-placement");
            Widget.startWithoutWallet(wait);

            List<String> jobs = new ArrayList<>();
            jobs.add(postJob("synthetic-tiny-f32", "a sampled story", SAMPLED.formatted(3)));
            jobs.add(postJob("synthetic-tiny-q8_0", "a greedy answer", "{\"temperature\": 0, \"seed\": 1}"));
            jobs.add(postJob("synthetic-tiny-q8_0", "a sampled answer", SAMPLED.formatted(5)));
            jobs.add(postJob("synthetic-tiny-q4_0", "a sampled list", SAMPLED.formatted(8)));

            long price = 0;
            for (String jobId : jobs) {
                JsonNode job = customer.awaitCompleted(jobId, Duration.ofSeconds(180));
                // completed only after the re-execution passed: a failed one would be queued again
                assertEquals("passed", job.get("verification").asText(), job.toString());
                int count = job.get("result").get("token_count").asInt();
                assertTrue(count >= 1 && count <= 8, job.toString());
                price += job.get("price_micro_usdc").asLong();
            }

            wait.until(ExpectedConditions.textToBe(By.id("jobs-completed"), String.valueOf(jobs.size())));
            String sessionId = driver.findElement(By.id("session-id")).getText();
            JsonNode session = customer.getJson("/api/nodes/" + sessionId, null);
            assertEquals(jobs.size(), session.get("jobs_completed").asInt(), session.toString());
            assertEquals(0, session.get("pending_micro_usdc").asLong(), "every credit available: " + session);
            long balance = session.get("balance_micro_usdc").asLong();
            assertTrue(balance > 0 && balance < price, "paid a share of the jobs' prices: " + session);
            assertEquals(0, rejectedResults(sessionId), "no result of the browser engine was rejected");
        }
    }

    private static String postJob(String model, String prompt, String sampling) throws Exception {
        return customer.postJob("""
                {"model": "%s", "prompt": "%s", "max_tokens": 8, "sampling": %s}"""
                .formatted(model, prompt, sampling)).get("id").asText();
    }

    private static long rejectedResults(String sessionId) {
        try (var rows = server.backend().database().execute().query(
                "SELECT COUNT(*) AS n FROM rejected_results WHERE session_id = ?", sessionId)) {
            return rows.findFirst().orElseThrow().column("n").getLong();
        }
    }
}
