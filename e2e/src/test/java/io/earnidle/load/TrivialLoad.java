package io.earnidle.load;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The same clients against the server's trivial in-memory endpoint ({@code GET /api/health}: no database, no
 * session): what the server serves when a request costs only its HTTP stack, the yardstick for the job cycles.
 */
final class TrivialLoad {
    /** Requests answered 200 while measuring, per second, and their latencies. */
    record Result(double requestsPerSecond, long requests, Samples latencies, Errors errors) {
    }

    private TrivialLoad() {
    }

    static Result run(List<LoadClient> clients, int concurrency, long warmupMillis, long measureMillis)
            throws InterruptedException {
        Phase phase = new Phase();
        Errors errors = new Errors();
        LongAdder ok = new LongAdder();
        List<Samples> samples = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
            Samples s = new Samples();
            samples.add(s);
            LoadClient client = clients.get(i % clients.size());
            threads.add(Thread.ofVirtual().start(() -> {
                while (!phase.stopping()) {
                    boolean measured = phase.measuring();
                    long t0 = System.nanoTime();
                    try {
                        LoadClient.Response r = client.get("/api/health", null);
                        if (r.status() != 200 || !r.text().contains("\"ok\"")) {
                            errors.add("health HTTP " + r.status());
                            continue;
                        }
                        if (measured) {
                            s.add(System.nanoTime() - t0);
                            ok.increment();
                        }
                    } catch (IOException e) {
                        errors.add("health " + e.getClass().getSimpleName());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
        }
        Thread.sleep(warmupMillis);
        phase.startMeasuring();
        Thread.sleep(measureMillis);
        phase.stop();
        for (Thread t : threads) {
            t.join();
        }
        Samples all = new Samples();
        samples.forEach(all::addAll);
        return new Result(ok.sum() / phase.measuredSeconds(), ok.sum(), all, errors);
    }
}
