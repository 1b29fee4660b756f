package io.earnidle.backend;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.auth.PublisherSessions;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.wallets.SiweMessage;
import io.helidon.webclient.http1.Http1Client;
import org.web3j.crypto.Credentials;

import static io.earnidle.backend.TestSupport.quote;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fuzz targets of {@link ApiBodyFuzzTest}: for each route that takes a body, the credentials it needs, its
 * concrete path and seed bodies that pass (or nearly pass) its validation, so mutants explore the validation rather
 * than the JSON syntax only.
 */
final class ApiBodyFuzzTargets {
    static final String PASSWORD = "correct horse battery";
    private static final String ADDRESS = "0x" + "ab12".repeat(10);
    private static final String SIGNATURE = "0x" + "11".repeat(65);
    private static final AtomicInteger UNIQUE = new AtomicInteger();

    /**
     * The server's settings: the per-client and per-key limits out of the way (each refusal would be a 429 before
     * the body is read), verification and the cascade run only when called, so nothing writes in the background;
     * domains are looked up on the test's dnsmasq.
     */
    static Map<String, String> settings(String dnsResolver) {
        Map<String, String> m = new HashMap<>(SETTINGS);
        m.put("earnidle.dns.resolver", dnsResolver);
        return m;
    }

    private static final Map<String, String> SETTINGS = Map.of(
            "earnidle.publishers.signup.max-per-client", "1000000",
            "earnidle.publishers.login.max-failures", "1000000",
            "earnidle.publishers.login.max-client-failures", "1000000",
            "earnidle.leases.registration.max-per-window", "1000000",
            "earnidle.openai.requests-per-minute", "0",
            "earnidle.trust.verifier-threads", "0",
            "earnidle.cascade.interval-ms", "0");

    /** What a target's requests carry and the ids its path and seeds use. */
    enum Needs { NOTHING, PORTAL, PORTAL_DOMAIN, PORTAL_PLACEMENT, PORTAL_KEY, PORTAL_PAYOUT_WALLET, PASSKEY_OPTIONS,
        PASSKEY_SIGNIN_OPTIONS, CUSTOMER, UNFUNDED_CUSTOMER, CUSTOMER_JOB, NODE, LEASE, SIWE_NONCE, WALLET }

    /**
     * One route's fuzz target.
     *
     * @param route           {@code METHOD /path} as {@link io.earnidle.backend.fuzz.RouteTable} lists it
     * @param needs           the credentials and ids the requests need
     * @param path            the concrete path
     * @param seeds           seed bodies
     * @param writesOnRefusal tables a refusal writes by design (e.g. failed sign-ins are counted)
     */
    record Target(String route, Needs needs, Function<Context, String> path, Function<Context, List<String>> seeds,
                  Set<String> writesOnRefusal) {
        /** The method sent: the route's own, POST for routes of any method (and the static files' routes). */
        String method() {
            String m = route.substring(0, route.indexOf(' '));
            return m.equals("ANY") || m.equals("UNREADABLE") ? "POST" : m;
        }
    }

    static final Map<String, Target> TARGETS = new LinkedHashMap<>();
    /** A webauthn or wallet challenge is single use: a refused answer uses it up too (no second guess). */
    private static final String SINGLE_USE_CHALLENGE = "webauthn_challenges";

    private static void add(String route, Needs needs, Function<Context, String> path,
                            Function<Context, List<String>> seeds, String... writesOnRefusal) {
        TARGETS.put(route, new Target(route, needs, path, seeds, Set.of(writesOnRefusal)));
    }

    private static void add(String route, Needs needs, Function<Context, List<String>> seeds,
                            String... writesOnRefusal) {
        String path = route.substring(route.indexOf(' ') + 1);
        add(route, needs, c -> path, seeds, writesOnRefusal);
    }

    static {
        // publisher portal: accounts, passkeys, domains, placements, payout wallet, withdrawals
        add("POST /api/publisher/signup", Needs.NOTHING, c -> List.of(
                "{\"email\":\"s" + UNIQUE.incrementAndGet() + "@example.org\",\"password\":\"" + PASSWORD
                        + "\",\"name\":\"Site\"}",
                "{\"email\":\"t@example.org\",\"password\":\"" + PASSWORD + "\"}"));
        add("POST /api/publisher/signin", Needs.PORTAL, c -> List.of(
                "{\"email\":" + quote(c.id("email")) + ",\"password\":\"" + PASSWORD + "\"}",
                "{\"email\":\"nobody@example.org\",\"password\":\"wrong password\"}"), "login_failures");
        add("POST /api/publisher/signout", Needs.PORTAL, c -> List.of("{}"));
        add("POST /api/publisher/signout-everywhere", Needs.PORTAL, c -> List.of("{}"));
        add("POST /api/publisher/passkeys/options", Needs.PORTAL, c -> List.of("{}"));
        add("POST /api/publisher/passkeys", Needs.PASSKEY_OPTIONS, c -> List.of(
                "{\"challenge_id\":" + quote(c.id("challenge")) + ",\"client_data_json\":\"eyJ0eXBlIjoid2ViYXV0aG4uY3J"
                        + "lYXRlIn0\",\"attestation_object\":\"o2NmbXRkbm9uZQ\",\"transports\":[\"internal\"]}"),
                SINGLE_USE_CHALLENGE);
        add("POST /api/publisher/passkey-signin/options", Needs.NOTHING, c -> List.of("{}"));
        add("POST /api/publisher/passkey-signin", Needs.PASSKEY_SIGNIN_OPTIONS, c -> List.of(
                "{\"challenge_id\":" + quote(c.id("challenge")) + ",\"credential_id\":\"Y3JlZA\",\"client_data_json\":"
                        + "\"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0\",\"authenticator_data\":\"AAAA\",\"signature\":\"MEUCIQ\","
                        + "\"user_handle\":\"dQ\"}"), SINGLE_USE_CHALLENGE);
        add("POST /api/publisher/domains", Needs.PORTAL, c -> List.of(
                "{\"domain\":\"fuzz" + UNIQUE.incrementAndGet() + ".example.test\",\"include_subdomains\":true}",
                "{\"domain\":\"b.example.test\"}"));
        add("POST /api/publisher/domains/{id}/check", Needs.PORTAL_DOMAIN,
                c -> "/api/publisher/domains/" + c.id("domain") + "/check", c -> List.of("{}"));
        add("DELETE /api/publisher/domains/{id}", Needs.PORTAL_DOMAIN,
                c -> "/api/publisher/domains/" + c.id("domain"), c -> List.of("{}"));
        add("POST /api/publisher/placements", Needs.PORTAL_PLACEMENT, c -> List.of(
                placement("p" + UNIQUE.incrementAndGet(), c.id("domain_name"), null)));
        add("PUT /api/publisher/placements/{id}", Needs.PORTAL_PLACEMENT,
                c -> "/api/publisher/placements/" + c.id("placement"), c -> List.of(
                        placement(c.id("placement"), c.id("domain_name"), "paused"),
                        placement(c.id("placement"), c.id("domain_name"), "active")));
        add("DELETE /api/publisher/placements/{id}", Needs.PORTAL_PLACEMENT,
                c -> "/api/publisher/placements/" + c.id("placement"), c -> List.of("{}"));
        add("POST /api/publisher/payout-wallet/challenge", Needs.PORTAL, c -> List.of(
                "{\"address\":\"" + ADDRESS + "\"}", "{\"address\":\"" + ADDRESS + "\",\"password\":\"" + PASSWORD
                        + "\"}"));
        add("POST /api/publisher/payout-wallet", Needs.PORTAL_PAYOUT_WALLET, c -> List.of(
                "{\"challenge_id\":" + quote(c.id("challenge")) + ",\"message\":" + quote(c.id("message"))
                        + ",\"signature\":" + quote(c.id("signature")) + ",\"password\":\"" + PASSWORD + "\"}"),
                SINGLE_USE_CHALLENGE);
        add("POST /api/publisher/withdrawals", Needs.PORTAL_PAYOUT_WALLET, c -> List.of(
                withdrawal(c.id("address")), withdrawal(ADDRESS)));
        // customers: keys of a portal account
        add("POST /api/customer/keys", Needs.PORTAL, c -> List.of("{\"name\":\"ci\"}"));
        add("POST /api/customer/keys/{id}/revoke", Needs.PORTAL_KEY,
                c -> "/api/customer/keys/" + c.id("key") + "/revoke", c -> List.of("{}"));
        // nodes and the protocol
        add("POST /api/nodes", Needs.WALLET, c -> List.of(
                node(null), node(c.id("wallet_token")),
                "{\"placement_id\":\"demo-placement\",\"capabilities\":{},\"limits\":{}}"));
        add("POST /api/nodes/me/models", Needs.NODE, c -> List.of(
                "{\"proofs\":[{\"model\":\"synthetic-tiny-f32\",\"sha256\":\"" + "0".repeat(64) + "\"}]}",
                "{\"proofs\":[]}"));
        add("POST /api/inference/result", Needs.LEASE, c -> List.of(
                TestSupport.Api.resultBody(c.lease, "fuzz-engine"),
                "{\"job_id\":" + quote(c.id("job")) + ",\"lease_id\":" + quote(c.id("lease")) + ",\"text\":\"\","
                        + "\"token_ids\":[],\"token_count\":0,\"engine\":\"e\",\"timing\":{\"prefill_ms\":0,"
                        + "\"decode_ms\":0}}"));
        add("POST /api/inference/progress", Needs.LEASE, c -> List.of(
                "{\"job_id\":" + quote(c.id("job")) + ",\"lease_id\":" + quote(c.id("lease"))
                        + ",\"tokens_done\":2,\"token_ids\":[1,2],\"text\":\" ab\"}",
                "{\"job_id\":" + quote(c.id("job")) + ",\"lease_id\":" + quote(c.id("lease")) + ",\"tokens_done\":0}"));
        add("POST /api/inference/failure", Needs.LEASE, c -> List.of(
                "{\"job_id\":" + quote(c.id("job")) + ",\"lease_id\":" + quote(c.id("lease"))
                        + ",\"reason\":\"out_of_memory\",\"detail\":\"WebAssembly.Memory grow failed\"}"));
        // jobs
        add("POST /api/jobs", Needs.CUSTOMER, c -> List.of(
                "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"Hello\",\"max_tokens\":4,"
                        + "\"sampling\":{\"temperature\":0.7,\"top_k\":40,\"top_p\":0.9,\"seed\":42}}",
                "{\"model\":\"synthetic-tiny-f32\",\"prompt_ids\":[1,2,3],\"max_tokens\":2,\"min_tier\":\"verified\"}"));
        add("POST /api/jobs/{id}/cancel", Needs.CUSTOMER_JOB, c -> "/api/jobs/" + c.id("job") + "/cancel",
                c -> List.of("{}"));
        // wallets, payouts, deposits
        add("POST /api/wallets/siwe/nonce", Needs.NOTHING, c -> List.of("{}"));
        add("POST /api/wallets/siwe/verify", Needs.SIWE_NONCE, c -> List.of(
                "{\"message\":" + quote(c.id("message")) + ",\"signature\":" + quote(c.id("signature")) + "}"),
                "siwe_nonces"); // a nonce is single use: a refused sign-in uses it up too
        add("POST /api/wallets/sessions", Needs.WALLET, c -> List.of(
                "{\"session_token\":" + quote(c.id("node_token")) + "}"));
        add("POST /api/payouts", Needs.WALLET, c -> List.of(
                withdrawal(c.id("address")), withdrawal(ADDRESS)));
        add("POST /api/deposits/wallets", Needs.CUSTOMER, c -> List.of(
                "{\"message\":\"example.com wants you to sign in with your Ethereum account:\\n" + ADDRESS
                        + "\\n\\nDeposit\",\"signature\":\"" + SIGNATURE + "\"}"));
        // the OpenAI-compatible API: an unfunded key, so a body that passes validation ends in 402 and no job waits
        add("POST /v1/chat/completions", Needs.UNFUNDED_CUSTOMER, c -> List.of(
                "{\"model\":\"synthetic-tiny-f32\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                        + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}],\"max_tokens\":4,"
                        + "\"temperature\":0.5,\"top_p\":0.9,\"seed\":1,\"stop\":[\"\\n\"],\"n\":1}",
                "{\"model\":\"synthetic-tiny-f32\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                        + "\"stream\":true,\"stream_options\":{\"include_usage\":true}}"));
        add("POST /v1/completions", Needs.UNFUNDED_CUSTOMER, c -> List.of(
                "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"Once\",\"max_tokens\":4,\"stop\":\"x\"}",
                "{\"model\":\"synthetic-tiny-f32\",\"prompt\":[\"a\"],\"stream\":true}"));
        // fallbacks: unknown paths under /v1 and /api, and the static files at /
        add("ANY /v1", Needs.UNFUNDED_CUSTOMER, c -> "/v1/embeddings", c -> List.of("{\"model\":\"m\",\"input\":\"x\"}"));
        add("ANY /api", Needs.NOTHING, c -> "/api/unknown", c -> List.of("{}"));
        add("UNREADABLE /", Needs.NOTHING, c -> "/portal/index.html", c -> List.of("{}"));
    }

    private ApiBodyFuzzTargets() {
    }

    private static String placement(String id, String domain, String status) {
        return """
                {"id": %s, "name": "Fuzz", "page_id": "home", "domain": %s, "path_prefix": "/", %s\
                "publisher_share_bps": 2000,
                 "limits": {"cpu_share": 0.5, "gpu": false, "bandwidth_kbps": 512, "memory_mb": 1024}}"""
                .formatted(quote(id), quote(domain), status == null ? "" : "\"status\": " + quote(status) + ", ");
    }

    private static String withdrawal(String destination) {
        return WalletTestSupport.withdrawBody(1_000_000, destination, 1, 4_102_444_800L, SIGNATURE);
    }

    private static String node(String walletToken) {
        return """
                {"placement_id":"demo-placement",
                 "capabilities":{"webgpu":false,"wasm_simd":true,"threads":false,"cores":2,"device_memory_gb":8},
                 "limits":{"cpu_share":0.5,"gpu":false,"memory_mb":512,"bandwidth_kbps":256}%s}"""
                .formatted(walletToken == null ? "" : ",\"wallet_token\":" + quote(walletToken));
    }

    /** The credentials (as request headers) and ids one target's requests use, made over the API. */
    static class Context {
        private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        private final String base;
        private final Map<String, String> headers = new HashMap<>();
        private final Map<String, String> ids = new HashMap<>();
        JsonNode lease;

        Context(String base) {
            this.base = base;
        }

        Map<String, String> headers() {
            return headers;
        }

        String id(String name) {
            String v = ids.get(name);
            if (v == null) {
                throw new IllegalStateException("no " + name + " in this target's context");
            }
            return v;
        }

        /**
         * A context whose ids are placeholders ({@code @@name@@}): seeds made with it are the committed Jazzer
         * inputs, and {@link #fill} puts this target's real ids in when they are sent.
         */
        static Context placeholders() {
            Context c = new Context("") {
                @Override
                String id(String name) {
                    return "@@" + name + "@@";
                }
            };
            c.lease = TestSupport.MAPPER.createObjectNode().put("job_id", "@@job@@").put("lease_id", "@@lease@@");
            return c;
        }

        /** The body with each {@code @@name@@} replaced by this context's id of that name; other bytes as they are. */
        byte[] fill(byte[] body) {
            String text = new String(body, StandardCharsets.ISO_8859_1); // one char per byte: nothing else changes
            if (!text.contains("@@")) {
                return body;
            }
            for (Map.Entry<String, String> e : ids.entrySet()) {
                text = text.replace("@@" + e.getKey() + "@@", e.getValue());
            }
            return text.getBytes(StandardCharsets.ISO_8859_1);
        }

        static Context create(String base, Backend backend, Needs needs) {
            Context c = new Context(base);
            Http1Client client = TestSupport.ownClient(base);
            TestSupport.Api api = new TestSupport.Api(client);
            switch (needs) {
                case NOTHING -> { }
                case PORTAL -> c.signUp();
                case PORTAL_DOMAIN -> c.signUp().domain(backend, false);
                case PORTAL_PLACEMENT -> {
                    c.signUp().domain(backend, true);
                    String id = "fz" + UNIQUE.incrementAndGet();
                    c.ids.put("placement", c.post("/api/publisher/placements",
                            placement(id, c.id("domain_name"), null), 201).path("id").asText());
                }
                case PORTAL_KEY -> c.signUp().ids.put("key",
                        c.post("/api/customer/keys", "{\"name\":\"k\"}", 201).path("id").asText());
                case PORTAL_PAYOUT_WALLET -> {
                    c.signUp();
                    Credentials key = WalletTestSupport.newKey();
                    String address = io.earnidle.backend.wallets.EthSignatures.checksum(key.getAddress());
                    JsonNode ch = c.post("/api/publisher/payout-wallet/challenge", "{\"address\":" + quote(address)
                            + ",\"password\":\"" + PASSWORD + "\"}", 200);
                    String message = ch.path("message").asText();
                    c.ids.put("challenge", ch.path("challenge_id").asText());
                    c.ids.put("message", message);
                    c.ids.put("signature", WalletTestSupport.personalSign(key, message));
                    c.ids.put("address", address.toLowerCase(java.util.Locale.ROOT));
                }
                case PASSKEY_OPTIONS -> c.signUp().ids.put("challenge",
                        c.post("/api/publisher/passkeys/options", "{}", 200).path("challenge_id").asText());
                case PASSKEY_SIGNIN_OPTIONS -> c.ids.put("challenge",
                        c.post("/api/publisher/passkey-signin/options", "{}", 200).path("challenge_id").asText());
                case CUSTOMER -> c.headers.put("Authorization", "Bearer " + TestSupport.CUSTOMER_KEY);
                case UNFUNDED_CUSTOMER -> {
                    String secret = c.signUp().post("/api/customer/keys", "{\"name\":\"unfunded\"}", 201)
                            .path("secret").asText();
                    c.headers.clear();
                    c.headers.put("Authorization", "Bearer " + secret);
                }
                case CUSTOMER_JOB -> {
                    c.headers.put("Authorization", "Bearer " + TestSupport.CUSTOMER_KEY);
                    c.ids.put("job", api.submit("cancel me", 4).path("id").asText());
                }
                case NODE -> c.headers.put("Authorization", "Bearer " + api.register());
                case LEASE -> {
                    String token = api.register();
                    api.submit("lease me", 4); // the job the node leases
                    TestSupport.Resp r = api.get("/api/inference/job", token);
                    assertTrue(r.status() == 200, r.text());
                    c.lease = r.json();
                    c.ids.put("job", c.lease.path("job_id").asText());
                    c.ids.put("lease", c.lease.path("lease_id").asText());
                    c.headers.put("Authorization", "Bearer " + token);
                }
                case SIWE_NONCE -> {
                    JsonNode nonce = api.post("/api/wallets/siwe/nonce", null, "{}").json();
                    Credentials key = WalletTestSupport.newKey();
                    SiweMessage m = WalletTestSupport.siwe(key, nonce.path("domain").asText(),
                            nonce.path("chain_id").asLong(), nonce.path("nonce").asText(), backend.ledger().now());
                    c.ids.put("message", m.format());
                    c.ids.put("signature", WalletTestSupport.personalSign(key, m.format()));
                }
                case WALLET -> {
                    Credentials key = WalletTestSupport.newKey();
                    String token = WalletTestSupport.signIn(api, key, backend.ledger().now());
                    c.headers.put("Authorization", "Bearer " + token);
                    c.ids.put("wallet_token", token);
                    c.ids.put("address", key.getAddress().toLowerCase(java.util.Locale.ROOT));
                    c.ids.put("node_token", api.register());
                }
                default -> throw new IllegalArgumentException(needs.toString());
            }
            return c;
        }

        /** Signs up a new portal account; its session cookie and CSRF token go with every request. */
        private Context signUp() {
            String email = "fuzz" + UNIQUE.incrementAndGet() + "@example.org";
            HttpResponse<String> r = send("POST", "/api/publisher/signup", "{\"email\":\"" + email
                    + "\",\"password\":\"" + PASSWORD + "\"}");
            assertTrue(r.statusCode() == 201, r.body());
            String cookie = r.headers().allValues("Set-Cookie").stream()
                    .filter(s -> s.startsWith(PublisherSessions.COOKIE + "=")).findFirst().orElseThrow();
            headers.put("Cookie", cookie.substring(0, cookie.indexOf(';')));
            headers.put("X-CSRF-Token", TestSupport.MAPPER.valueToTree(parse(r.body())).path("csrf_token").asText());
            ids.put("email", email);
            return this;
        }

        private Context domain(Backend backend, boolean verified) {
            String name = "fz" + UNIQUE.incrementAndGet() + ".example.test";
            String id = post("/api/publisher/domains", "{\"domain\":\"" + name + "\"}", 201).path("id").asText();
            if (verified) { // the DNS proof itself is PublisherApiTest's
                backend.database().execute().update("UPDATE domains SET status = 'verified', verified_at = ?"
                        + " WHERE id = ?", Database.ts(backend.ledger().now()), id);
            }
            ids.put("domain", id);
            ids.put("domain_name", name);
            return this;
        }

        private JsonNode post(String path, String body, int expected) {
            HttpResponse<String> r = send("POST", path, body);
            assertTrue(r.statusCode() == expected, path + ": " + r.statusCode() + " " + r.body());
            return parse(r.body());
        }

        private HttpResponse<String> send(String method, String path, String body) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                    .header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
            headers.forEach(b::header);
            try {
                return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException | InterruptedException e) {
                throw new AssertionError(method + " " + path, e);
            }
        }

        private static JsonNode parse(String body) {
            try {
                return TestSupport.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }
}
