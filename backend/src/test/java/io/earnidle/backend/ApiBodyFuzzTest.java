package io.earnidle.backend;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.fuzz.RouteTable;
import io.earnidle.testsupport.Dnsmasq;
import io.earnidle.testsupport.fuzz.SeededFuzzRun;
import io.helidon.dbclient.DbRow;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the body of every route that takes one (every method but GET and HEAD), through the real routing of a
 * running server, with the credentials the route needs ({@link ApiBodyFuzzTargets}), so mutants reach the body
 * parsing and validation and not only the 401. Each answer: never a 5xx; a 4xx under {@code /api} is problem+json
 * and under {@code /v1} OpenAI's error object; after a 4xx every table has the rows it had and the ledger's balances
 * are the same. {@link #everyRouteWithABodyHasAFuzzTarget} reads the route list from the application's own routing,
 * so a new route without a target fails the build.
 */
@ServerTest
class ApiBodyFuzzTest extends BackendServerTest {
    private static final long SEED = 0xB0D1E5L;
    private static final int EXECUTIONS_PER_ROUTE = 120;
    private static final int MAX_LENGTH = 4096;

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Map<String, ApiBodyFuzzTargets.Context> CONTEXTS = new HashMap<>();
    private static String base;
    private static List<String> tables;
    /** The store as the last request of {@link #snapshotRoute} left it (only accepted requests write). */
    private static Map<String, Long> lastSnapshot;
    private static String snapshotRoute;

    ApiBodyFuzzTest(URI uri) {
        base = uri.toString().replaceAll("/$", "");
    }

    private static Dnsmasq dns;

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) throws Exception {
        dns = Dnsmasq.start();
        start(routing, ApiBodyFuzzTargets.settings(dns.resolver()), new TestSupport.MutableClock());
    }

    @AfterAll
    static void stopDns() throws Exception {
        dns.close();
    }

    /** Every route but GET and HEAD ones, as {@code METHOD /path} ({@code ANY} and unreadable routes included). */
    static Set<String> routesWithABody() {
        return RouteTable.of(backend::routing).stream()
                .filter(r -> !r.method().equals("GET") && !r.method().equals("HEAD"))
                .map(RouteTable.Route::toString)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void everyRouteWithABodyHasAFuzzTarget() {
        Set<String> routes = routesWithABody();
        assertTrue(routes.contains("POST /api/jobs") && routes.contains("POST /v1/chat/completions"),
                "the route table is read from the routing: " + routes);
        assertEquals(routes, new TreeSet<>(ApiBodyFuzzTargets.TARGETS.keySet()),
                "each route that takes a body has exactly one fuzz target (ApiBodyFuzzTargets), and no target is stale");
    }

    @Test
    void fixedSeedShortRun() {
        long seed = SEED;
        for (ApiBodyFuzzTargets.Target target : ApiBodyFuzzTargets.TARGETS.values()) {
            ApiBodyFuzzTargets.Context ctx = context(target);
            List<byte[]> seeds = target.seeds().apply(ctx).stream()
                    .map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
            try {
                SeededFuzzRun.run(seed++, EXECUTIONS_PER_ROUTE, seeds, MAX_LENGTH, body -> send(target, body));
            } catch (AssertionError e) {
                throw new AssertionError(target.route() + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Coverage-guided over all targets at once: the first byte picks the route, the rest is the body
     * ({@code JAZZER_FUZZ=1}, docs/security.md "Fuzzing"); otherwise replays the committed findings.
     */
    @MethodSource("jazzerSeeds") // Jazzer wants @FuzzTest last
    @FuzzTest(maxDuration = "10m")
    void apiBodies(byte[] input) throws Exception {
        List<ApiBodyFuzzTargets.Target> all = new ArrayList<>(ApiBodyFuzzTargets.TARGETS.values());
        int pick = input.length == 0 ? 0 : (input[0] & 0xff) % all.size();
        byte[] body = input.length == 0 ? input : java.util.Arrays.copyOfRange(input, 1, input.length);
        send(all.get(pick), body);
    }

    /** The targets' seeds as {@link #apiBodies} inputs: the target's index, then the body with placeholder ids. */
    static Stream<Arguments> jazzerSeeds() {
        List<ApiBodyFuzzTargets.Target> all = new ArrayList<>(ApiBodyFuzzTargets.TARGETS.values());
        ApiBodyFuzzTargets.Context placeholders = ApiBodyFuzzTargets.Context.placeholders();
        List<Arguments> seeds = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            for (String seed : all.get(i).seeds().apply(placeholders)) {
                byte[] body = seed.getBytes(StandardCharsets.UTF_8);
                byte[] input = new byte[body.length + 1];
                input[0] = (byte) i;
                System.arraycopy(body, 0, input, 1, body.length);
                seeds.add(Arguments.of((Object) input));
            }
        }
        return seeds.stream();
    }

    private static ApiBodyFuzzTargets.Context context(ApiBodyFuzzTargets.Target target) {
        return CONTEXTS.computeIfAbsent(target.route(),
                r -> ApiBodyFuzzTargets.Context.create(base, backend, target.needs()));
    }

    /** One execution: the body to the target's route; the answer and the store checked as the class says. */
    private static void send(ApiBodyFuzzTargets.Target target, byte[] body) throws IOException, InterruptedException {
        ApiBodyFuzzTargets.Context ctx = context(target);
        String path = target.path().apply(ctx);
        if (!target.route().equals(snapshotRoute)) { // setting up a context writes; each target starts afresh
            lastSnapshot = snapshot();
            snapshotRoute = target.route();
        }
        Map<String, Long> before = lastSnapshot;
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .method(target.method(), HttpRequest.BodyPublishers.ofByteArray(ctx.fill(body)));
        ctx.headers().forEach(req::header);
        HttpResponse<byte[]> res = HTTP.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
        int status = res.statusCode();
        String text = new String(res.body(), StandardCharsets.UTF_8);
        assertTrue(status < 500, target.route() + " answered " + status + ": " + text);
        if (status < 400) { // an accepted request may write: the next refusal is compared with the store after it
            lastSnapshot = snapshot();
        } else {
            String contentType = res.headers().firstValue("Content-Type").orElse("");
            if (path.startsWith("/v1")) {
                assertTrue(contentType.startsWith("application/json"), contentType);
                JsonNode error = TestSupport.MAPPER.readTree(res.body()).path("error");
                assertTrue(error.path("message").isTextual() && error.path("type").isTextual(),
                        "OpenAI's error shape: " + text);
            } else if (path.startsWith("/api")) {
                assertTrue(contentType.startsWith("application/problem+json"), status + " " + contentType + ": " + text);
                JsonNode problem = TestSupport.MAPPER.readTree(res.body());
                assertEquals(status, problem.path("status").asInt(), text);
                assertTrue(problem.path("type").asText().startsWith("https://earnidle.io/problems/"), text);
            }
            Map<String, Long> after = snapshot();
            lastSnapshot = after;
            Map<String, String> changed = new TreeMap<>();
            before.forEach((k, v) -> {
                if (target.writesOnRefusal().contains(k)) {
                    return;
                }
                if (!v.equals(after.get(k))) {
                    changed.put(k, v + " -> " + after.get(k));
                }
            });
            assertTrue(changed.isEmpty(), target.route() + " refused with " + status + " (" + text
                    + ") and changed the store: " + changed);
        }
    }

    /** Each table's row count and the sum of the ledger's absolute balances, in one query. */
    private static Map<String, Long> snapshot() {
        Database db = backend.database();
        if (tables == null) {
            try (Stream<DbRow> rows = db.execute().query("SELECT table_name AS t FROM information_schema.tables"
                    + " WHERE LOWER(table_schema) = 'public' AND LOWER(table_type) IN ('base table', 'table')")) {
                tables = rows.map(r -> Database.str(r, "t").toLowerCase(java.util.Locale.ROOT)).sorted().toList();
            }
            assertTrue(tables.contains("ledger_entries") && tables.contains("jobs"), tables.toString());
        }
        String sql = tables.stream().map(t -> "SELECT '" + t + "' AS t, COUNT(*) AS n FROM " + t)
                .collect(Collectors.joining(" UNION ALL "))
                + " UNION ALL SELECT 'ledger |balance|' AS t, COALESCE(SUM(ABS(balance_micro_usdc)), 0) AS n"
                + " FROM ledger_accounts";
        Map<String, Long> m = new LinkedHashMap<>();
        try (Stream<DbRow> rows = db.execute().query(sql)) {
            rows.forEach(r -> m.put(Database.str(r, "t"), Database.lng(r, "n")));
        }
        return m;
    }
}
