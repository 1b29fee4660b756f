package io.earnidle.backend;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.publishers.PortalClient;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.count;
import static io.earnidle.backend.TestSupport.quote;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attack suite (issue 23, docs/security.md): SQL injection in every text field a client sends, and stored markup in
 * the names the backend shows. Each attack either is refused (4xx, nothing written) or is stored and returned as the
 * exact text sent, as JSON data; no table is dropped, emptied or read out.
 */
@ServerTest
class InjectionAttackTest extends BackendServerTest {
    private static final String PASSWORD = "correct horse battery";
    /** Classic payloads: tautology, stacked statement, comment-out, UNION read-out, quote balancing. */
    static final List<String> SQL = List.of(
            "' OR '1'='1",
            "x'); DROP TABLE jobs; --",
            "1; DELETE FROM ledger_entries",
            "' UNION SELECT key_sha256 FROM api_keys --",
            "\" OR \"\"=\"",
            "\\'; UPDATE ledger_accounts SET balance_micro_usdc = 1000000000 --");
    /** Markup that would run if a page wrote a stored name as HTML. */
    static final List<String> MARKUP = List.of(
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "\"><svg onload=alert(1)>",
            "javascript:alert(1)");
    private static final List<String> TABLES = List.of("customer_wallets", "deposit_cursors", "deposits",
            "manual_credits", "receipt_keys", "receipts", "payout_transactions", "publishers", "placements",
            "customers", "node_sessions", "models", "jobs", "job_results", "ledger_accounts", "ledger_transactions",
            "ledger_entries", "publisher_sessions", "login_failures", "passkeys", "webauthn_challenges", "domains",
            "publisher_notices", "wallets", "siwe_nonces", "wallet_sessions", "payouts", "payout_chain_nonces",
            "rejected_results", "reputations", "canary_answers", "job_progress", "lease_failures",
            "node_registrations", "node_capabilities", "lease_observations", "model_possession", "api_keys");

    private final Api api;
    private final String base;

    InjectionAttackTest(Http1Client client, URI uri) {
        this.api = new Api(client);
        this.base = uri.toString().replaceAll("/$", "");
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        // this test signs up more accounts than one client may in an hour (AnonymousCostTest tries that limit)
        start(routing, Map.of("earnidle.publishers.signup.max-per-client", "1000"), java.time.Clock.systemUTC());
    }

    private static Map<String, Long> rowCounts() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String t : TABLES) {
            m.put(t, count(backend.database(), "SELECT COUNT(*) AS n FROM " + t));
        }
        return m;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static void refused(int status, String what) {
        assertTrue(status >= 400 && status < 500, what + ": expected a 4xx refusal, got " + status);
    }

    /** A publisher account with a domain marked verified (the DNS proof itself is PublisherApiTest's). */
    private PortalClient publisherWithDomain(String domain) {
        PortalClient c = new PortalClient(base).signUp("inj" + System.nanoTime() + "@example.org", PASSWORD);
        JsonNode d = c.post("/api/publisher/domains", "{\"domain\":\"" + domain + "\"}").ok(201).json();
        backend.database().execute().update("UPDATE domains SET status = 'verified', verified_at = ? WHERE id = ?",
                Database.ts(Instant.now()), d.path("id").asText());
        return c;
    }

    private static String placementBody(String id, String name, String pageId, String domain, String path) {
        return """
                {"id": %s, "name": %s, "page_id": %s, "domain": %s, "path_prefix": %s, "publisher_share_bps": 2000,
                 "limits": {"cpu_share": 0.5, "gpu": false, "bandwidth_kbps": 512, "memory_mb": 1024}}"""
                .formatted(quote(id), quote(name), quote(pageId), quote(domain), quote(path));
    }

    @Test
    void sqlInjectionInEveryTextFieldIsRefusedOrStoredAsText() {
        PortalClient pub = publisherWithDomain("inject.example.test");
        JsonNode key = pub.post("/api/customer/keys", "{\"name\":\"k\"}").ok(201).json();
        String secret = key.path("secret").asText();
        Map<String, Long> before = rowCounts();
        long jobsBefore = before.get("jobs");
        int storedNames = 0;
        int storedPlacements = 0;
        int storedJobs = 0;
        for (String s : SQL) {
            // sign-up: a hostile email is refused; a hostile display name is stored verbatim
            refused(new PortalClient(base).post("/api/publisher/signup", "{\"email\":" + quote(s)
                    + ",\"password\":\"" + PASSWORD + "\"}").status(), "signup email " + s);
            PortalClient named = new PortalClient(base);
            PortalClient.Resp signed = named.post("/api/publisher/signup", "{\"email\":\"n" + System.nanoTime()
                    + "@example.org\",\"password\":\"" + PASSWORD + "\",\"name\":" + quote(s) + "}");
            assertEquals(201, signed.status(), signed.body());
            storedNames++;
            named.csrf = signed.json().path("csrf_token").asText();
            assertEquals(s, named.get("/api/publisher/me").ok(200).json().path("name").asText());
            // sign-in: neither field logs anyone in
            refused(new PortalClient(base).post("/api/publisher/signin", "{\"email\":" + quote(s)
                    + ",\"password\":" + quote(s) + "}").status(), "signin " + s);
            // the customer's key name is stored verbatim
            JsonNode k = named.post("/api/customer/keys", "{\"name\":" + quote(s) + "}").ok(201).json();
            assertEquals(s, named.get("/api/customer/keys").ok(200).json().path("data").get(0).path("name").asText());
            assertEquals(s, Database.str(backend.database().execute()
                    .get("SELECT name FROM api_keys WHERE id = ?", k.path("id").asText()).orElseThrow(), "name"));
            // domains, placement ids, page ids and paths are refused by their grammar; the name is text
            refused(pub.post("/api/publisher/domains", "{\"domain\":" + quote(s) + "}").status(), "domain " + s);
            refused(pub.post("/api/publisher/placements", placementBody(s, "n", "home", "inject.example.test", "/"))
                    .status(), "placement id " + s);
            refused(pub.post("/api/publisher/placements", placementBody("p" + System.nanoTime(), "n", s,
                    "inject.example.test", "/")).status(), "page_id " + s);
            refused(pub.post("/api/publisher/placements", placementBody("p" + System.nanoTime(), "n", "home",
                    "inject.example.test", "/" + s)).status(), "path_prefix " + s);
            refused(pub.post("/api/publisher/placements", placementBody("p" + System.nanoTime(), "n", "home", s, "/"))
                    .status(), "placement domain " + s);
            String pid = "p" + System.nanoTime();
            pub.post("/api/publisher/placements", placementBody(pid, s, "home", "inject.example.test", "/")).ok(201);
            storedPlacements++;
            assertEquals(s, Database.str(backend.database().execute()
                    .get("SELECT name FROM placements WHERE id = ?", pid).orElseThrow(), "name"));
            // ids in paths
            refused(api.get("/api/jobs/" + enc(s), secret).status(), "job id path " + s);
            refused(api.get("/api/placements/" + enc(s) + "/widget-config", null).status(), "placement path " + s);
            refused(pub.post("/api/publisher/domains/" + enc(s) + "/check", null).status(), "domain path " + s);
            refused(pub.send("DELETE", "/api/publisher/placements/" + enc(s), null).status(), "placement del " + s);
            refused(named.post("/api/customer/keys/" + enc(s) + "/revoke", null).status(), "key revoke " + s);
            // bearer tokens
            refused(api.get("/api/jobs", s).status(), "customer key " + s);
            refused(api.get("/api/inference/job", s).status(), "node token " + s);
            refused(api.get("/api/wallets/me", s).status(), "wallet token " + s);
            // node registration
            refused(api.post("/api/nodes", null, "{\"placement_id\":" + quote(s)
                    + ",\"capabilities\":{},\"limits\":{}}").status(), "node placement " + s);
            refused(api.post("/api/nodes", null, "{\"placement_id\":\"demo-placement\",\"capabilities\":{},"
                    + "\"limits\":{},\"wallet_token\":" + quote(s) + "}").status(), "node wallet token " + s);
            // jobs: model and tier are refused, the prompt is stored as the text sent
            refused(api.post("/api/jobs", CUSTOMER_KEY, "{\"model\":" + quote(s)
                    + ",\"prompt\":\"hi\",\"max_tokens\":4}").status(), "model " + s);
            refused(api.post("/api/jobs", CUSTOMER_KEY, "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"hi\","
                    + "\"max_tokens\":4,\"min_tier\":" + quote(s) + "}").status(), "min_tier " + s);
            refused(api.post("/v1/chat/completions", CUSTOMER_KEY, "{\"model\":" + quote(s)
                    + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").status(), "v1 model " + s);
            Resp job = api.post("/api/jobs", CUSTOMER_KEY, "{\"model\":\"synthetic-tiny-f32\",\"prompt\":" + quote(s)
                    + ",\"max_tokens\":4}");
            assertEquals(202, job.status(), job.text());
            storedJobs++;
            assertEquals(s, Database.str(backend.database().execute()
                    .get("SELECT prompt FROM jobs WHERE id = ?", job.json().path("id").asText()).orElseThrow(),
                    "prompt"));
            api.post("/api/jobs/" + job.json().path("id").asText() + "/cancel", CUSTOMER_KEY, "{}");
            // SIWE: the message is parsed, never spliced into SQL
            refused(api.post("/api/wallets/verify", null, "{\"message\":" + quote(s) + ",\"signature\":"
                    + quote(s) + "}").status(), "siwe " + s);
        }

        // every table is still there; only the rows the accepted requests wrote are new
        Map<String, Long> after = rowCounts();
        assertEquals(before.get("publishers") + storedNames, after.get("publishers"));
        assertEquals(before.get("placements") + storedPlacements, after.get("placements"));
        assertEquals(before.get("api_keys") + storedNames, after.get("api_keys"));
        assertEquals(jobsBefore + storedJobs, after.get("jobs"));
        for (String t : List.of("domains", "wallets", "wallet_sessions", "node_sessions", "payouts", "receipts",
                "job_results", "deposits", "manual_credits", "models")) {
            assertEquals(before.get(t), after.get(t), "table " + t);
        }
        assertEquals(0, count(backend.database(), "SELECT COUNT(*) AS n FROM ledger_accounts"
                + " WHERE owner_type <> 'external' AND balance_micro_usdc < 0"));
        assertEquals(0, count(backend.database(), "SELECT COUNT(*) AS n FROM ledger_accounts"
                + " WHERE balance_micro_usdc >= 1000000000 AND owner_type <> 'external'"));
    }

    @Test
    void storedMarkupInNamesComesBackAsJsonTextNeverAsHtml() {
        PortalClient pub = publisherWithDomain("markup.example.test");
        for (String m : MARKUP) {
            PortalClient c = new PortalClient(base);
            PortalClient.Resp signed = c.post("/api/publisher/signup", "{\"email\":\"m" + System.nanoTime()
                    + "@example.org\",\"password\":\"" + PASSWORD + "\",\"name\":" + quote(m) + "}");
            assertEquals(201, signed.status(), signed.body());
            c.csrf = signed.json().path("csrf_token").asText();
            PortalClient.Resp me = c.get("/api/publisher/me").ok(200);
            assertTrue(me.header("Content-Type").startsWith("application/json"), me.header("Content-Type"));
            assertEquals(m, me.json().path("name").asText());
            c.post("/api/customer/keys", "{\"name\":" + quote(m) + "}").ok(201);
            PortalClient.Resp keys = c.get("/api/customer/keys").ok(200);
            assertTrue(keys.header("Content-Type").startsWith("application/json"), keys.header("Content-Type"));
            assertEquals(m, keys.json().path("data").get(0).path("name").asText());

            String pid = "x" + System.nanoTime();
            pub.post("/api/publisher/placements", placementBody(pid, m, "home", "markup.example.test", "/")).ok(201);
            PortalClient.Resp listed = pub.get("/api/publisher/placements").ok(200);
            assertTrue(listed.header("Content-Type").startsWith("application/json"), listed.header("Content-Type"));
            assertTrue(listed.json().toString().contains(quote(m).substring(1, quote(m).length() - 1)),
                    listed.body());
            // the public widget config of the placement is JSON too; the widget page is a static file with its own
            // CSP, and the placement's name never appears in it
            PortalClient.Resp cfg = new PortalClient(base).get("/api/placements/" + pid + "/widget-config").ok(200);
            assertTrue(cfg.header("Content-Type").startsWith("application/json"), cfg.header("Content-Type"));
            PortalClient.Resp widget = new PortalClient(base).get("/widget/?placement=" + pid);
            assertFalse(widget.body().contains(m), "the widget page does not echo the name");
        }
        // the pages that show these names are static documents that build their DOM from JSON as text, under a CSP
        // with no inline script (SecurityHeadersTest; the portal's scripts: publisher-portal portal.test.mjs)
        for (String page : List.of("/portal/", "/stats/", "/worker-card/")) {
            PortalClient.Resp r = new PortalClient(base).get(page);
            if (r.status() == 200) {
                for (String m : MARKUP) {
                    assertFalse(r.body().contains(m), page + " echoes " + m);
                }
            }
        }
    }
}
