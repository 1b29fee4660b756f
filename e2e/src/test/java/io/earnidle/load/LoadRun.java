package io.earnidle.load;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One load scenario: {@code nodes} simulated nodes (spread over the backend instances' base URLs) register, then poll
 * and answer while customers keep up to one open job per node; after a warm-up the cycles and latencies of
 * {@code measureMillis} are counted. Then the same number of clients load the trivial endpoint for as long.
 */
final class LoadRun {
    /** Customer threads submitting jobs: enough to keep the queue fed (each waits for a free place). */
    static final int CUSTOMER_THREADS = 16;
    /** Tokens of the capability benchmark job (earnidle.capability.benchmark.max-tokens) the warm-up runs. */
    static final int BENCHMARK_TOKENS = 32;
    /** The longest the nodes' first results may take by default: beyond it the backend is not serving them. */
    static final Duration MAX_ONBOARDING = Duration.ofMinutes(30);

    /**
     * The nodes were not all onboarded (a result accepted for each) within the run's bound: the scenario has no
     * steady state to measure, and what it got to is its figure.
     */
    static final class NotOnboarded extends Exception {
        final int onboarded;
        final int registered;
        final double seconds;
        final Map<String, Long> errors;
        final long refusedPolls;

        NotOnboarded(int onboarded, int registered, double seconds, Map<String, Long> errors, long refusedPolls) {
            super(onboarded + " of " + registered + " nodes had a result accepted within " + seconds + " s; errors: "
                    + errors + "; refused polls: " + refusedPolls);
            this.onboarded = onboarded;
            this.registered = registered;
            this.seconds = seconds;
            this.errors = errors;
            this.refusedPolls = refusedPolls;
        }
    }

    /** The figures of one scenario; every count is read from the backend's responses. */
    record Result(int nodes, int registered, double onboardingSeconds, double measuredSeconds, long measuredCycles, long cycles,
                  long customerJobsSubmitted, Set<String> customerJobsCompleted, Samples poll, Samples submit,
                  Samples jobSubmit, Map<String, Long> errors, long refusedPolls, TrivialLoad.Result trivial) {
        double cyclesPerSecond() {
            return measuredCycles / measuredSeconds;
        }
    }

    private LoadRun() {
    }

    static Result run(List<String> baseUrls, String apiKey, int nodes, long warmupMillis, long measureMillis)
            throws Exception {
        return run(baseUrls, apiKey, nodes, warmupMillis, measureMillis, MAX_ONBOARDING);
    }

    /** As above, giving up on a scenario whose nodes are not all onboarded within {@code maxOnboarding}. */
    static Result run(List<String> baseUrls, String apiKey, int nodes, long warmupMillis, long measureMillis,
                      Duration maxOnboarding) throws Exception {
        List<LoadClient> clients = baseUrls.stream().map(LoadClient::new).toList();
        try {
            Phase phase = new Phase();
            Errors errors = new Errors();
            HonestAnswers answers = new HonestAnswers(clients.getFirst());
            long t0 = System.nanoTime();
            answers.prepare(Customers.MODEL, BENCHMARK_TOKENS);
            System.err.printf("load: engine warm-up %.1f s%n", (System.nanoTime() - t0) / 1e9);
            Customers customers = new Customers(clients, apiKey, nodes, phase, errors);
            List<SimulatedNode> sims = new ArrayList<>();
            CountDownLatch onboarded = new CountDownLatch(nodes);
            for (int i = 0; i < nodes; i++) {
                sims.add(new SimulatedNode(clients.get(i % clients.size()), answers, customers, phase, errors,
                        onboarded));
            }
            List<SimulatedNode> registered = new ArrayList<>();
            try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<Boolean>> done = new ArrayList<>();
                for (SimulatedNode s : sims) {
                    done.add(ex.submit(s::register));
                }
                for (int i = 0; i < sims.size(); i++) {
                    if (done.get(i).get()) {
                        registered.add(sims.get(i));
                    }
                }
            }
            List<Thread> threads = new ArrayList<>();
            for (SimulatedNode s : registered) {
                threads.add(Thread.ofVirtual().start(s::run));
            }
            for (int i = registered.size(); i < nodes; i++) {
                onboarded.countDown(); // a refused registration (counted as an error) has nothing to wait for
            }
            customers.start(CUSTOMER_THREADS);
            // steady state: every new session's first job is its capability benchmark (a random job the node runs
            // and the verifier checks); the measurement starts once every node has passed it, after the warm-up
            long onboardStart = System.nanoTime();
            while (!onboarded.await(1, TimeUnit.SECONDS)) {
                if (System.nanoTime() - onboardStart > maxOnboarding.toNanos()) {
                    stop(phase, customers, threads);
                    throw new NotOnboarded(registered.size() - (int) onboarded.getCount(), registered.size(),
                            (System.nanoTime() - onboardStart) / 1e9, errors.byKind(),
                            registered.stream().mapToLong(n -> n.refusedPolls).sum());
                }
            }
            double onboardingSeconds = (System.nanoTime() - onboardStart) / 1e9;
            Thread.sleep(warmupMillis);
            phase.startMeasuring();
            System.err.println("load: measuring from " + java.time.Instant.now()); // a profile's window
            Thread.sleep(measureMillis);
            stop(phase, customers, threads);
            System.err.println("load: measured until " + java.time.Instant.now());
            Samples poll = new Samples();
            Samples submit = new Samples();
            long measured = 0;
            long total = 0;
            long refused = 0;
            for (SimulatedNode s : registered) {
                poll.addAll(s.poll);
                submit.addAll(s.submit);
                measured += s.measuredCycles;
                total += s.cycles;
                refused += s.refusedPolls;
            }
            TrivialLoad.Result trivial = TrivialLoad.run(clients, nodes, warmupMillis, measureMillis);
            return new Result(nodes, registered.size(), onboardingSeconds, phase.measuredSeconds(), measured, total,
                    customers.submitted(), customers.completedJobs(), poll, submit, customers.latencies(),
                    errors.byKind(), refused, trivial);
        } finally {
            clients.forEach(LoadClient::close);
        }
    }

    /**
     * Ends the phase and waits for the customers and nodes: each ends after its request in flight, so every answer
     * the backend gave is counted.
     */
    private static void stop(Phase phase, Customers customers, List<Thread> threads) throws InterruptedException {
        phase.stop();
        customers.stop();
        for (Thread t : threads) {
            t.join();
        }
    }
}
