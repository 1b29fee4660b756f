package io.earnidle.load;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.testsupport.Folders;

/**
 * The load benchmark ({@code ./earnidle bench-load}): for each store and node count, fresh backends (the shipped
 * application.yaml under {@link #SETTINGS}; {@link LoadStore}: one on embedded H2, or two in cluster mode on one
 * PostgreSQL), one {@link LoadRun}, and the figures in one results file ({@code bench/results/<date>-load.json})
 * that e2e/bench/load-report.mjs turns into docs/benchmarks.md "Load".
 *
 * <pre>LoadBench [--store h2,postgres2] [--nodes 100,1000,5000] [--warmup-seconds 5] [--seconds 20]
 *           [--set KEY=VALUE]... [--max-onboarding-seconds 1800] [--out FILE] [--command TEXT]</pre>
 * {@code --store} defaults to {@code h2}.
 * {@code --set} adds a backend setting for every scenario (e.g. {@code earnidle.leases.dispatch=skip-locked}).
 * A scenario whose nodes are not all onboarded within {@code --max-onboarding-seconds} is recorded as such (how many
 * were, after how long, the errors) and the run goes on with the next.
 */
public final class LoadBench {
    /** The demo customer's key (the shipped demo data). */
    static final String API_KEY = "demo-customer-key";
    /**
     * Settings over the shipped defaults, only those a load run needs: the registrations of N nodes from one
     * address (the per-address limit guards against floods, not what is measured here) and a customer balance that
     * pays for every job of the run.
     */
    static final Map<String, String> SETTINGS = Map.of(
            "earnidle.leases.registration.max-per-window", "1000000",
            "earnidle.demo.customer-funding-micro-usdc", "1000000000000");
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private LoadBench() {
    }

    public static void main(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        List<LoadStore> stores = Arrays.stream(opt(a, "--store", "h2").split(",")).map(LoadStore::of).toList();
        int[] nodes = Arrays.stream(opt(a, "--nodes", "100,1000,5000").split(",")).mapToInt(Integer::parseInt)
                .toArray();
        long warmup = (long) (Double.parseDouble(opt(a, "--warmup-seconds", "5")) * 1000);
        long measure = (long) (Double.parseDouble(opt(a, "--seconds", "20")) * 1000);
        java.time.Duration maxOnboarding = java.time.Duration.ofMillis((long) (Double.parseDouble(
                opt(a, "--max-onboarding-seconds", Long.toString(LoadRun.MAX_ONBOARDING.toSeconds()))) * 1000));
        String started = Instant.now().toString();
        String stamp = DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmm").withZone(ZoneOffset.UTC).format(Instant.now());
        Path out = Path.of(opt(a, "--out", "bench/results/" + stamp + "-load.json"));
        Map<String, String> settings = new java.util.TreeMap<>(SETTINGS);
        for (int i = 0; i + 1 < a.size(); i++) {
            if (a.get(i).equals("--set")) {
                String[] kv = a.get(i + 1).split("=", 2);
                settings.put(kv[0], kv[1]);
            }
        }
        ObjectNode results = header(opt(a, "--command", "./earnidle bench-load"), started, warmup, measure,
                settings);
        ArrayNode scenarios = results.putArray("scenarios");
        for (LoadStore store : stores) {
            for (int n : nodes) {
                LoadRun.Result r;
                try {
                    r = run(store, n, warmup, measure, settings, maxOnboarding);
                } catch (LoadRun.NotOnboarded e) {
                    scenarios.add(json(store, n, e));
                    System.err.printf("%s x%d, %d nodes: not onboarded: %s%n", store.id(), store.instances(), n,
                            e.getMessage());
                    continue;
                }
                scenarios.add(json(store, r));
                System.err.printf("%s x%d, %d nodes: %.0f cycles/s, poll p99 %.1f ms, submit p99 %.1f ms, trivial "
                                + "%.0f/s, errors %s%n", store.id(), store.instances(), n, r.cyclesPerSecond(),
                        r.poll().percentileMs(99), r.submit().percentileMs(99), r.trivial().requestsPerSecond(),
                        r.errors());
            }
        }
        results.put("finished_at", Instant.now().toString());
        results.set("loadavg_end", loadAverage());
        Files.createDirectories(out.toAbsolutePath().getParent());
        MAPPER.writeValue(out.toFile(), results);
        System.out.println(out);
    }

    /** One scenario on fresh backends of {@code store}. */
    static LoadRun.Result run(LoadStore store, int nodes, long warmupMillis, long measureMillis,
                              Map<String, String> settings, java.time.Duration maxOnboarding) throws Exception {
        Path dir = Files.createTempDirectory("earnidle-load");
        try (LoadStore.Backends backends = store.start(dir, settings)) {
            return LoadRun.run(backends.baseUrls(), API_KEY, nodes, warmupMillis, measureMillis, maxOnboarding);
        } finally {
            Folders.deleteTree(dir);
        }
    }

    static ObjectNode json(LoadStore store, LoadRun.Result r) {
        ObjectNode s = MAPPER.createObjectNode();
        s.put("store", store.id());
        s.put("instances", store.instances());
        s.put("nodes", r.nodes());
        s.put("registered", r.registered());
        s.put("onboarding_seconds", r.onboardingSeconds());
        s.put("measured_seconds", r.measuredSeconds());
        s.put("cycles", r.measuredCycles());
        s.put("cycles_per_s", r.cyclesPerSecond());
        s.put("cycles_whole_run", r.cycles());
        s.put("customer_jobs_submitted", r.customerJobsSubmitted());
        s.put("customer_jobs_completed", r.customerJobsCompleted().size());
        s.set("poll", latency(r.poll()));
        s.set("submit", latency(r.submit()));
        s.set("job_submit", latency(r.jobSubmit()));
        s.put("errors", r.errors().values().stream().mapToLong(Long::longValue).sum());
        s.set("errors_by_kind", MAPPER.valueToTree(r.errors()));
        s.put("polls_refused", r.refusedPolls());
        ObjectNode t = s.putObject("trivial");
        t.put("endpoint", "GET /api/health");
        t.put("requests_per_s", r.trivial().requestsPerSecond());
        t.setAll(latency(r.trivial().latencies()));
        t.put("errors", r.trivial().errors().total());
        s.put("cycles_per_trivial_request", r.cyclesPerSecond() / r.trivial().requestsPerSecond());
        return s;
    }

    /** A scenario whose nodes were not all onboarded: how far it got, and no steady-state figures. */
    static ObjectNode json(LoadStore store, int nodes, LoadRun.NotOnboarded e) {
        ObjectNode s = MAPPER.createObjectNode();
        s.put("store", store.id());
        s.put("instances", store.instances());
        s.put("nodes", nodes);
        s.put("registered", e.registered);
        s.put("onboarded", false);
        s.put("onboarded_nodes", e.onboarded);
        s.put("onboarding_seconds", e.seconds);
        s.put("errors", e.errors.values().stream().mapToLong(Long::longValue).sum());
        s.set("errors_by_kind", MAPPER.valueToTree(e.errors));
        s.put("polls_refused", e.refusedPolls);
        return s;
    }

    private static ObjectNode latency(Samples s) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("count", s.count());
        o.put("p50_ms", s.percentileMs(50));
        o.put("p99_ms", s.percentileMs(99));
        return o;
    }

    private static ObjectNode header(String command, String started, long warmup, long measure,
                                     Map<String, String> settings) {
        ObjectNode r = MAPPER.createObjectNode();
        r.put("schema", "earnidle-load/1");
        r.put("command", command);
        r.put("started_at", started);
        ObjectNode m = r.putObject("machine");
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("cpu_model", cpuModel());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
        m.put("max_heap_mib", Runtime.getRuntime().maxMemory() >> 20);
        r.set("loadavg_start", loadAverage());
        ObjectNode s = r.putObject("settings");
        s.put("warmup_seconds", warmup / 1000.0);
        s.put("measure_seconds", measure / 1000.0);
        s.put("model", Customers.MODEL);
        s.put("max_tokens", Customers.MAX_TOKENS);
        s.put("distinct_prompts", Customers.PROMPTS);
        s.put("customer_threads", LoadRun.CUSTOMER_THREADS);
        s.put("open_jobs_per_node", 1);
        s.set("backend_settings", MAPPER.valueToTree(settings));
        s.put("client", "JDK HttpClient, HTTP/1.1 keep-alive, one virtual thread per simulated node; client and"
                + " server in one JVM (postgres2: both instances in it, PostgreSQL 15 a local process; nodes and"
                + " customers spread round-robin over the instances)");
        return r;
    }

    private static ArrayNode loadAverage() {
        ArrayNode a = MAPPER.createArrayNode();
        try {
            for (String v : Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")) {
                if (a.size() < 3) {
                    a.add(Double.parseDouble(v));
                }
            }
        } catch (Exception e) {
            a.add(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
        return a;
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
        } catch (Exception e) {
            return "unknown";
        }
    }

    private static String opt(List<String> args, String name, String def) {
        int i = args.indexOf(name);
        return i >= 0 && i + 1 < args.size() ? args.get(i + 1) : def;
    }
}
