package io.earnidle.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.earnidle.node.loop.Backoff;
import io.earnidle.node.loop.NodeLoop;

/**
 * One simulated node over real HTTP: registers a session on the demo placement ({@code POST /api/nodes}), then
 * polls {@code GET /api/inference/job} and posts each lease's honest answer to {@code POST /api/inference/result}
 * (with an Idempotency-Key). As the browser node ({@link NodeLoop}), it polls again at once after a job, and after a
 * poll that got no job or failed (a poll refused with 503 at the backend's bound of polls in flight too) it waits its
 * {@link Backoff}: the backend's suggested poll interval, doubling up to {@link NodeLoop#MAX_BACKOFF_MS}, with jitter.
 * Latencies are kept for the requests that start while the phase measures and are served (a poll answered 200 or
 * 204, a result accepted or not); a cycle counts when the backend answers the result with 200 and
 * {@code "status":"accepted"}.
 * <p>
 * Each node is a device of one speed, as a browser is ({@link DeviceSpeed}).
 */
final class SimulatedNode {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String REGISTRATION = """
            {"placement_id":"demo-placement",
             "capabilities":{"webgpu":false,"wasm_simd":true,"threads":false,"cores":2,"device_memory_gb":8},
             "limits":{"cpu_share":1.0,"gpu":false,"memory_mb":512,"bandwidth_kbps":1000000}}""";

    private final LoadClient client;
    private final HonestAnswers answers;
    private final Customers customers;
    private final Phase phase;
    private final Errors errors;
    final Samples poll = new Samples();
    final Samples submit = new Samples();
    /** Accepted results while measuring, and over the whole run. */
    long measuredCycles;
    long cycles;
    /** Polls answered 503 polls-in-flight over the whole run: the backend's bound, not an error. */
    long refusedPolls;
    /** Set after the node's first accepted result (a new session's first job is its capability benchmark). */
    private final java.util.concurrent.CountDownLatch onboarded;
    private String token;
    /** The browser node's backoff between polls that got no job: its poll interval, doubling up to its cap. */
    private Backoff backoff;
    /** This device's speed: what its answers report. */
    private final DeviceSpeed speed = new DeviceSpeed();

    SimulatedNode(LoadClient client, HonestAnswers answers, Customers customers, Phase phase, Errors errors,
                  java.util.concurrent.CountDownLatch onboarded) {
        this.onboarded = onboarded;
        this.client = client;
        this.answers = answers;
        this.customers = customers;
        this.phase = phase;
        this.errors = errors;
    }

    /** Registers the session; false (the error counted) when the backend refused. */
    boolean register() throws InterruptedException {
        try {
            LoadClient.Response r = client.post("/api/nodes", null, REGISTRATION, null);
            if (r.status() != 201) {
                errors.add("register HTTP " + r.status());
                return false;
            }
            JsonNode j = MAPPER.readTree(r.body());
            token = j.path("session_token").asText();
            backoff = new Backoff(j.path("poll_interval_ms").asLong(1000), NodeLoop.MAX_BACKOFF_MS,
                    java.util.concurrent.ThreadLocalRandom.current().nextLong());
            return true;
        } catch (IOException e) {
            errors.add("register " + e.getClass().getSimpleName());
            return false;
        }
    }

    /** Polls and answers until the phase stops. */
    void run() {
        try {
            while (!phase.stopping()) {
                if (!cycle()) {
                    phase.pause(backoff.nextDelayMs());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One poll and, when it leased a job, its result; false when there was nothing to do (or an error). */
    private boolean cycle() {
        boolean measured = phase.measuring();
        long t0 = System.nanoTime();
        JsonNode lease;
        try {
            LoadClient.Response r = client.get("/api/inference/job", token);
            if (measured && (r.status() == 200 || r.status() == 204)) { // a refused poll is counted apart, not a latency
                poll.add(System.nanoTime() - t0);
            }
            if (r.status() == 204) {
                return false;
            }
            if (r.status() == 503 && new String(r.body(), StandardCharsets.UTF_8).contains("/problems/polls-in-flight")) {
                refusedPolls++; // at the backend's bound of polls in flight: refused at once, on purpose
                return false;
            }
            if (r.status() != 200) {
                errors.add("poll HTTP " + r.status());
                return false;
            }
            lease = MAPPER.readTree(r.body());
            backoff.reset(); // as the browser node: polls again at once after a job
        } catch (IOException e) {
            errors.add("poll " + e.getClass().getSimpleName());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        String body = HonestAnswers.resultBody(lease, speed.report(answers.answer(lease)));
        measured = phase.measuring();
        long t1 = System.nanoTime();
        try {
            LoadClient.Response r = client.post("/api/inference/result", token, body, UUID.randomUUID().toString());
            if (measured) {
                submit.add(System.nanoTime() - t1);
            }
            if (r.status() != 200 || !"accepted".equals(MAPPER.readTree(r.body()).path("status").asText())) {
                errors.add("submit HTTP " + r.status());
                return false;
            }
        } catch (IOException e) {
            errors.add("submit " + e.getClass().getSimpleName());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        if (cycles++ == 0) {
            onboarded.countDown();
        }
        if (measured) {
            measuredCycles++;
        }
        customers.completed(lease.path("job_id").asText());
        return true;
    }
}
