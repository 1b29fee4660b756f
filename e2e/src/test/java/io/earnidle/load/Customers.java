package io.earnidle.load;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Customers submitting jobs over HTTP ({@code POST /api/jobs} with the demo customer's API key) on virtual threads,
 * keeping at most {@code maxOpen} of their jobs unanswered: a new job is submitted when a node's result for one of
 * them is accepted. The jobs are real ones on the smallest served model, a few distinct prompts at temperature 0.
 */
final class Customers {
    static final String MODEL = "synthetic-tiny-f32";
    static final int MAX_TOKENS = 2;
    static final int PROMPTS = 8;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final List<LoadClient> clients;
    private final String apiKey;
    private final Phase phase;
    private final Errors errors;
    private final Semaphore open;
    private final Set<String> openJobs = ConcurrentHashMap.newKeySet();
    private final Set<String> completedJobs = ConcurrentHashMap.newKeySet();
    /** Accepted results of jobs not (yet) known as ours: a node can answer a job before its 202 is read here. */
    private final Set<String> answeredUnknown = ConcurrentHashMap.newKeySet();
    private final AtomicLong submitted = new AtomicLong();
    private final List<Samples> latencies = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    Customers(List<LoadClient> clients, String apiKey, int maxOpen, Phase phase, Errors errors) {
        this.clients = clients;
        this.apiKey = apiKey;
        this.open = new Semaphore(maxOpen);
        this.phase = phase;
        this.errors = errors;
    }

    /** Starts {@code count} submitting threads. */
    void start(int count) {
        for (int i = 0; i < count; i++) {
            Samples s = new Samples();
            latencies.add(s);
            LoadClient client = clients.get(i % clients.size());
            int first = i;
            threads.add(Thread.ofVirtual().name("customer-" + i).start(() -> submitLoop(client, s, first)));
        }
    }

    private void submitLoop(LoadClient client, Samples samples, int first) {
        try {
            for (long n = first; !phase.stopping(); n++) {
                if (!open.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    continue;
                }
                String body = """
                        {"model":"%s","prompt":"load test prompt %d","max_tokens":%d,
                         "sampling":{"temperature":0,"seed":42}}""".formatted(MODEL, n % PROMPTS, MAX_TOKENS);
                boolean measured = phase.measuring();
                long t0 = System.nanoTime();
                try {
                    LoadClient.Response r = client.post("/api/jobs", apiKey, body, null);
                    if (measured) {
                        samples.add(System.nanoTime() - t0);
                    }
                    if (r.status() == 202) {
                        String id = MAPPER.readTree(r.body()).path("id").asText();
                        submitted.incrementAndGet();
                        openJobs.add(id);
                        if (answeredUnknown.remove(id)) {
                            completed(id);
                        }
                        continue;
                    }
                    errors.add("job submit HTTP " + r.status());
                } catch (IOException e) {
                    errors.add("job submit " + e.getClass().getSimpleName());
                }
                open.release();
                phase.pause(100); // a refused submission is retried after a pause, not in a tight loop
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A node's result for {@code jobId} was accepted: one of ours frees a place for the next job. */
    void completed(String jobId) {
        if (openJobs.remove(jobId)) {
            completedJobs.add(jobId);
            open.release();
        } else {
            answeredUnknown.add(jobId);
        }
    }

    void stop() throws InterruptedException {
        for (Thread t : threads) {
            t.join(); // each ends after its request in flight once the phase stops
        }
    }

    long submitted() {
        return submitted.get();
    }

    Set<String> completedJobs() {
        return completedJobs;
    }

    Samples latencies() {
        Samples all = new Samples();
        latencies.forEach(all::addAll);
        return all;
    }
}
