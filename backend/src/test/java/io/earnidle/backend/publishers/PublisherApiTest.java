package io.earnidle.backend.publishers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.EarnIdleServer;
import io.earnidle.testsupport.Dnsmasq;
import io.earnidle.testsupport.PostgresCluster;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The publisher API against a real dnsmasq: accounts, sessions, CSRF, rate limiting, DNS TXT verification with IDNA
 * names, subdomains, takeover and periodic re-checks, placements and the widget page's frame-ancestors policy.
 */
class PublisherApiTest {
    static final String PASSWORD = "correct horse battery";
    static Dnsmasq dns;
    static EarnIdleServer server;
    static Path dataDir;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        dns = Dnsmasq.start();
        dataDir = Files.createTempDirectory("earnidle-publishers-test");
        Config config = Config.builder()
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                .sources(ConfigSources.create(PostgresCluster.storeConfig(dataDir)), ConfigSources.create(Map.of(
                        "server.host", "127.0.0.1",
                        "server.port", "0",
                        "earnidle.data-dir", dataDir.toString(),
                        "earnidle.dns.resolver", dns.resolver(),
                        "earnidle.dns.recheck-interval-seconds", "1",
                        "earnidle.publishers.login.max-failures", "3")))
                .build();
        server = EarnIdleServer.start(config);
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (dns != null) {
            dns.close();
        }
        try (var files = Files.walk(dataDir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static String unique(String prefix) {
        return prefix + Long.toHexString(System.nanoTime());
    }

    static PortalClient newPublisher() {
        return new PortalClient(base).signUp(unique("pub") + "@example.org", PASSWORD);
    }

    /** Adds and verifies {@code domain} for {@code c}; returns the domain JSON. */
    static JsonNode verifiedDomain(PortalClient c, String domain, boolean subdomains) throws Exception {
        JsonNode d = c.post("/api/publisher/domains", "{\"domain\":\"" + domain + "\",\"include_subdomains\":"
                + subdomains + "}").ok(201).json();
        dns.setTxt(d.at("/record/name").asText(), d.at("/record/value").asText());
        return c.post("/api/publisher/domains/" + d.get("id").asText() + "/check", null).ok(200).json();
    }

    static String placementBody(String id, String domain, int shareBps, double cpu) {
        return """
                {"id": "%s", "name": "Article <b>pages</b>", "page_id": "articles", "domain": "%s",
                 "path_prefix": "/articles/", "publisher_share_bps": %d,
                 "limits": {"cpu_share": %s, "gpu": false, "bandwidth_kbps": 512, "memory_mb": 1024}}"""
                .formatted(id, domain, shareBps, cpu);
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(200);
        }
    }

    @Test
    void accountsSessionsCsrfAndSignOutEverywhere() {
        String email = unique("Alice") + "@Example.org";
        PortalClient a = new PortalClient(base);
        assertTrue(a.post("/api/publisher/signup", "{\"email\":\"not-an-email\",\"password\":\"" + PASSWORD + "\"}")
                .problem(400, "validation").contains("email"));
        assertTrue(a.post("/api/publisher/signup", "{\"email\":\"" + email + "\",\"password\":\"short\"}")
                .problem(400, "validation").contains("at least 12"));
        PortalClient.Resp created = a.post("/api/publisher/signup",
                "{\"email\":\"" + email + "\",\"password\":\"" + PASSWORD + "\",\"name\":\"Alice's <site>\"}");
        assertEquals(201, created.status(), created.body());
        String cookie = created.header("Set-Cookie");
        assertTrue(cookie.startsWith("ei_publisher_session=ps_"), cookie);
        assertTrue(cookie.contains("HttpOnly"), cookie);
        assertTrue(cookie.contains("SameSite=Lax"), cookie);
        assertFalse(cookie.contains("Secure"), "plain http on a loopback host: no Secure flag: " + cookie);
        a.csrf = created.json().get("csrf_token").asText();
        assertEquals(email.toLowerCase(), a.get("/api/publisher/me").ok(200).json().get("email").asText());
        assertEquals("Alice's <site>", a.get("/api/publisher/me").json().get("name").asText());

        new PortalClient(base).post("/api/publisher/signup", "{\"email\":\"" + email.toLowerCase()
                + "\",\"password\":\"" + PASSWORD + "\"}").problem(409, "conflict");
        new PortalClient(base).get("/api/publisher/me").problem(401, "unauthorized");

        // CSRF: a state-changing request without the token, or from another origin, is refused
        String token = a.csrf;
        a.csrf = null;
        assertTrue(a.post("/api/publisher/domains", "{\"domain\":\"x.example.test\"}").problem(403, "csrf")
                .contains("X-CSRF-Token"));
        a.csrf = "wrong";
        a.post("/api/publisher/domains", "{\"domain\":\"x.example.test\"}").problem(403, "csrf");
        a.csrf = token;

        // a second device, then sign out everywhere ends both sessions
        PortalClient b = new PortalClient(base).signIn(email, PASSWORD);
        b.get("/api/publisher/me").ok(200);
        JsonNode ended = a.post("/api/publisher/signout-everywhere", null).ok(200).json();
        assertEquals(2, ended.get("sessions_ended").asInt());
        a.get("/api/publisher/me").problem(401, "unauthorized");
        b.get("/api/publisher/me").problem(401, "unauthorized");

        // sign in again, sign out (this device only)
        PortalClient c = new PortalClient(base).signIn(email, PASSWORD);
        PortalClient d = new PortalClient(base).signIn(email, PASSWORD);
        c.post("/api/publisher/signout", null).ok(204);
        c.get("/api/publisher/me").problem(401, "unauthorized");
        d.get("/api/publisher/me").ok(200);
    }

    @Test
    void signInIsRateLimitedPerAccount() {
        String email = unique("bob") + "@example.org";
        new PortalClient(base).signUp(email, PASSWORD);
        PortalClient x = new PortalClient(base);
        for (int i = 0; i < 3; i++) {
            assertTrue(x.post("/api/publisher/signin", "{\"email\":\"" + email + "\",\"password\":\"wrong password!\"}")
                    .problem(401, "unauthorized").contains("wrong e-mail or password"));
        }
        PortalClient.Resp limited = x.post("/api/publisher/signin",
                "{\"email\":\"" + email + "\",\"password\":\"" + PASSWORD + "\"}");
        limited.problem(429, "rate-limited");
        assertNotNull(limited.header("Retry-After"));
        // unknown accounts answer like wrong passwords
        x.post("/api/publisher/signin", "{\"email\":\"nobody@example.org\",\"password\":\"" + PASSWORD + "\"}")
                .problem(401, "unauthorized");
    }

    @Test
    void domainVerificationFailsBeforeTheRecordAndSucceedsAfter() throws Exception {
        PortalClient c = newPublisher();
        for (String bad : new String[]{"https://example.test/", "192.168.1.1", "localhost", "exa mple.test",
                "-bad-.example.test", ""}) {
            c.post("/api/publisher/domains", "{\"domain\":\"" + bad + "\"}").problem(400, "validation");
        }
        String domain = unique("news") + ".example.test";
        JsonNode d = c.post("/api/publisher/domains", "{\"domain\":\"" + domain.toUpperCase() + ".\"}").ok(201).json();
        assertEquals(domain, d.get("domain").asText());
        assertEquals("pending", d.get("status").asText());
        assertEquals("_earnidle-challenge." + domain, d.at("/record/name").asText());
        String value = d.at("/record/value").asText();
        assertTrue(value.matches("earnidle-verify=[0-9a-f]{40}"), value);
        c.post("/api/publisher/domains", "{\"domain\":\"" + domain + "\"}").problem(409, "conflict");

        String detail = c.post("/api/publisher/domains/" + d.get("id").asText() + "/check", null)
                .problem(422, "dns-record-not-found");
        assertTrue(detail.contains("NXDOMAIN") && detail.contains(dns.resolver()) && detail.contains(value), detail);

        // a near-miss is not an exact match, and the error shows what the resolver saw
        dns.setTxt("_earnidle-challenge." + domain, value + "x");
        detail = c.post("/api/publisher/domains/" + d.get("id").asText() + "/check", null)
                .problem(422, "dns-record-not-found");
        assertTrue(detail.contains("NOERROR with TXT \"" + value + "x\""), detail);

        dns.setTxt("_earnidle-challenge." + domain, "v=spf1 -all", value);
        JsonNode checked = c.post("/api/publisher/domains/" + d.get("id").asText() + "/check", null).ok(200).json();
        assertEquals("verified", checked.get("status").asText());
        assertNotNull(checked.get("verified_at").textValue());
        assertEquals(1, c.get("/api/publisher/domains").ok(200).json().get("domains").size());
    }

    @Test
    void internationalizedNamesAreNormalisedBeforeComparison() throws Exception {
        PortalClient c = newPublisher();
        String label = "bücher" + Long.toHexString(System.nanoTime());
        JsonNode d = c.post("/api/publisher/domains", "{\"domain\":\"" + label.toUpperCase() + ".Example.Test\"}")
                .ok(201).json();
        String ascii = java.net.IDN.toASCII(label + ".example.test");
        assertTrue(ascii.startsWith("xn--"), ascii);
        assertEquals(ascii, d.get("ascii").asText());
        assertEquals(label + ".example.test", d.get("domain").asText());
        assertEquals("_earnidle-challenge." + ascii, d.at("/record/name").asText());
        // the same name typed in its ASCII form is the same domain
        c.post("/api/publisher/domains", "{\"domain\":\"" + ascii + "\"}").problem(409, "conflict");
        dns.setTxt(d.at("/record/name").asText(), d.at("/record/value").asText());
        assertEquals("verified", c.post("/api/publisher/domains/" + d.get("id").asText() + "/check", null).ok(200)
                .json().get("status").asText());
        // placements may name it in either form
        c.post("/api/publisher/placements", placementBody(unique("idn-"), label + ".example.test", 2000, 0.5))
                .ok(201);
    }

    @Test
    void placementsValidateLimitsShareDomainsAndIds() throws Exception {
        PortalClient c = newPublisher();
        String domain = unique("shop") + ".example.test";
        c.post("/api/publisher/placements", placementBody("p-" + unique(""), domain, 2000, 0.5))
                .problem(400, "validation");
        verifiedDomain(c, domain, false);
        String id = unique("shop-");
        assertTrue(c.post("/api/publisher/placements", placementBody(id, domain, 2000, 1.5))
                .problem(400, "validation").contains("cpu_share"));
        assertTrue(c.post("/api/publisher/placements", placementBody(id, domain, 9000, 0.5))
                .problem(400, "validation").contains("publisher_share_bps must be between 0 and 5000"));
        assertTrue(c.post("/api/publisher/placements", placementBody("bad id!", domain, 2000, 0.5))
                .problem(400, "validation").contains("id"));
        c.post("/api/publisher/placements", placementBody(id, domain, 2000, 0.5).replace("\"memory_mb\": 1024",
                "\"memory_mb\": 99999")).problem(400, "validation");
        // a subdomain is not covered unless the publisher asked for it
        c.post("/api/publisher/placements", placementBody(id, "blog." + domain, 2000, 0.5)).problem(400, "validation");

        JsonNode p = c.post("/api/publisher/placements", placementBody(id, domain, 2000, 0.5)).ok(201).json();
        assertEquals("active", p.get("status").asText());
        assertEquals("Article <b>pages</b>", p.get("name").asText());
        assertEquals("[\"https://" + domain + ":*\",\"http://" + domain + ":*\"]", p.get("allowed_origins").toString());
        assertTrue(p.at("/embed/script").asText().contains("data-placement=\"" + id + "\""));
        assertTrue(p.at("/embed/iframe").asText().contains("/widget/?placement=" + id));
        c.post("/api/publisher/placements", placementBody(id, domain, 2000, 0.5)).problem(409, "conflict");
        c.post("/api/publisher/placements", placementBody("demo-placement", domain, 2000, 0.5)).problem(409, "conflict");
        // another publisher cannot touch it
        newPublisher().send("PUT", "/api/publisher/placements/" + id, placementBody(id, domain, 2000, 0.5))
                .problem(404, "not-found");

        // the widget page carries frame-ancestors with exactly the verified origins
        PortalClient anon = new PortalClient(base);
        PortalClient.Resp page = anon.get("/widget/?placement=" + id + "&host=http%3A%2F%2F" + domain + "%3A8000");
        assertEquals(200, page.status());
        assertEquals("frame-ancestors https://" + domain + ":* http://" + domain + ":*",
                page.header("Content-Security-Policy"));
        assertTrue(page.body().contains("consent-accept"), "the real widget");
        PortalClient.Resp elsewhere = anon.get("/widget/?placement=" + id + "&host=https%3A%2F%2Fevil.example");
        assertTrue(elsewhere.body().contains("not enabled for https://evil.example"), elsewhere.body());
        assertFalse(elsewhere.body().contains("consent-accept") || elsewhere.body().contains("<script"));
        JsonNode cfg = anon.get("/api/placements/" + id + "/widget-config?origin=https%3A%2F%2Fevil.example").ok(200)
                .json();
        assertFalse(cfg.get("origin_allowed").asBoolean());
        assertEquals(0.5, cfg.get("limits").get("cpu_share").asDouble(), "the publisher's caps reach the widget");
        assertEquals(1024, cfg.get("limits").get("memory_mb").asInt());
        assertTrue(anon.get("/api/placements/" + id + "/widget-config?origin=http%3A%2F%2F" + domain + "%3A8000")
                .json().get("origin_allowed").asBoolean());

        // pause: the widget is told, and nodes cannot register
        c.send("PUT", "/api/publisher/placements/" + id, placementBody(id, domain, 2500, 0.5)
                .replace("\"page_id\"", "\"status\": \"paused\", \"page_id\"")).ok(200);
        assertEquals("paused", anon.get("/api/placements/" + id + "/widget-config").json().get("status").asText());
        PortalClient.Resp pausedPage = anon.get("/widget/?placement=" + id + "&host=https%3A%2F%2F" + domain);
        assertTrue(pausedPage.body().contains("paused Earn Idle here") && !pausedPage.body().contains("<script"),
                pausedPage.body());
        anon.post("/api/nodes", "{\"placement_id\":\"" + id + "\",\"capabilities\":{},\"limits\":{}}")
                .problem(404, "not-found");
        c.send("DELETE", "/api/publisher/placements/" + id, null).ok(204);
        c.get("/api/publisher/placements").ok(200);
        assertEquals(0, c.get("/api/publisher/placements").json().get("placements").size());
    }

    @Test
    void subdomainsAreCoveredOnlyWhenAskedWithTheRecordOnTheParent() throws Exception {
        PortalClient c = newPublisher();
        String parent = unique("corp") + ".example.test";
        verifiedDomain(c, parent, true);
        c.post("/api/publisher/placements", placementBody(unique("sub-"), "blog." + parent, 1000, 0.25)).ok(201);
        c.post("/api/publisher/placements", placementBody(unique("sub-"), "a.b." + parent, 1000, 0.25)).ok(201);
        c.post("/api/publisher/placements", placementBody(unique("sub-"), "x" + parent, 1000, 0.25))
                .problem(400, "validation");
    }

    @Test
    void aFreshProofMovesTheDomainAndTheFirstHolderIsToldAndSuspended() throws Exception {
        PortalClient first = newPublisher();
        String domain = unique("contested") + ".example.test";
        JsonNode d1 = verifiedDomain(first, domain, false);
        String pid = unique("first-");
        first.post("/api/publisher/placements", placementBody(pid, domain, 2000, 0.5)).ok(201);

        PortalClient second = newPublisher();
        JsonNode d2 = second.post("/api/publisher/domains", "{\"domain\":\"" + domain + "\"}").ok(201).json();
        // the first holder's record does not prove anything for the second
        second.post("/api/publisher/domains/" + d2.get("id").asText() + "/check", null)
                .problem(422, "dns-record-not-found");
        dns.setTxt(d2.at("/record/name").asText(), d1.at("/record/value").asText(), d2.at("/record/value").asText());
        assertEquals("verified", second.post("/api/publisher/domains/" + d2.get("id").asText() + "/check", null)
                .ok(200).json().get("status").asText());

        JsonNode firstDomains = first.get("/api/publisher/domains").json().get("domains");
        assertEquals("lost", firstDomains.get(0).get("status").asText());
        JsonNode dash = first.get("/api/publisher/dashboard").ok(200).json();
        assertTrue(dash.get("notices").get(0).get("message").asText().contains("Another publisher proved control of "
                + domain), dash.toString());
        JsonNode p = first.get("/api/publisher/placements").json().get("placements").get(0);
        assertEquals("suspended", p.get("status").asText());
        assertEquals(0, p.get("allowed_origins").size());
        new PortalClient(base).post("/api/nodes", "{\"placement_id\":\"" + pid + "\",\"capabilities\":{},\"limits\":{}}")
                .problem(404, "not-found");
        first.post("/api/publisher/domains/" + d1.get("id").asText() + "/check", null).problem(409, "conflict");
    }

    @Test
    void periodicRecheckSuspendsPlacementsWhenTheRecordIsRemovedAndResumesThem() throws Exception {
        PortalClient c = newPublisher();
        String domain = unique("flaky") + ".example.test";
        JsonNode d = verifiedDomain(c, domain, false);
        String pid = unique("flaky-");
        c.post("/api/publisher/placements", placementBody(pid, domain, 2000, 0.5)).ok(201);
        String recordName = d.at("/record/name").asText();

        dns.setTxt(recordName);
        await("placement suspended after the record was removed", () -> "suspended".equals(
                new PortalClient(base).get("/api/placements/" + pid + "/widget-config").json().get("status").asText()));
        // a recheck that ran while the DNS server restarted without the record saw a TIMEOUT (also failing); the
        // rechecks after it see the record gone
        await("a recheck saw NXDOMAIN", () -> c.get("/api/publisher/domains").json().get("domains").get(0)
                .get("last_check_detail").asText().contains("NXDOMAIN"));
        JsonNode domainNow = c.get("/api/publisher/domains").json().get("domains").get(0);
        assertEquals("failing", domainNow.get("status").asText());
        assertTrue(new PortalClient(base).get("/widget/?placement=" + pid + "&host=https%3A%2F%2F" + domain).body()
                .contains("suspended"));

        dns.setTxt(recordName, d.at("/record/value").asText());
        await("placement active again", () -> "active".equals(
                new PortalClient(base).get("/api/placements/" + pid + "/widget-config").json().get("status").asText()));
        assertNull(c.get("/api/publisher/placements").json().get("placements").get(0).get("suspended_reason")
                .textValue());
    }

    @Test
    void payoutWalletIsProvenByAPersonalSignSignature() throws Exception {
        PortalClient c = newPublisher();
        org.web3j.crypto.ECKeyPair key = org.web3j.crypto.Keys.createEcKeyPair();
        String address = "0x" + org.web3j.crypto.Keys.getAddress(key);
        c.post("/api/publisher/payout-wallet/challenge", "{\"address\":\"0x123\"}").problem(400, "validation");
        JsonNode ch = c.post("/api/publisher/payout-wallet/challenge", "{\"address\":\"" + address + "\"}").ok(200)
                .json();
        String message = ch.get("message").asText();
        assertTrue(message.contains(address) && message.contains("Nonce: "), message);
        // signed by another key: refused, nothing stored
        String wrong = sign(message, org.web3j.crypto.Keys.createEcKeyPair());
        assertTrue(c.post("/api/publisher/payout-wallet", body(ch, message, wrong)).problem(400, "validation")
                .contains("not by"));
        // a changed message is refused
        c.post("/api/publisher/payout-wallet", body(ch, message + " ", sign(message + " ", key)))
                .problem(400, "validation");
        assertNull(c.get("/api/publisher/me").json().get("payout_address").textValue());
        JsonNode ok = c.post("/api/publisher/payout-wallet", body(ch, message, sign(message, key))).ok(200).json();
        assertEquals(address, ok.get("payout_address").asText());
        assertEquals(address, c.get("/api/publisher/me").json().get("payout_address").asText());
        // single use
        c.post("/api/publisher/payout-wallet", body(ch, message, sign(message, key))).problem(400, "validation");
    }

    private static String body(JsonNode ch, String message, String signature) {
        return PortalClient.MAPPER.createObjectNode().put("challenge_id", ch.get("challenge_id").asText())
                .put("message", message).put("signature", signature).toString();
    }

    private static String sign(String message, org.web3j.crypto.ECKeyPair key) {
        org.web3j.crypto.Sign.SignatureData sig = org.web3j.crypto.Sign.signPrefixedMessage(
                message.getBytes(java.nio.charset.StandardCharsets.UTF_8), key);
        return org.web3j.utils.Numeric.toHexString(sig.getR()) + org.web3j.utils.Numeric.toHexStringNoPrefix(sig.getS())
                + org.web3j.utils.Numeric.toHexStringNoPrefix(sig.getV());
    }

    @Test
    void demoPlacementIsVerifiedByConfigurationForLoopbackOrigins() {
        PortalClient anon = new PortalClient(base);
        PortalClient.Resp page = anon.get("/widget/?placement=demo-placement&host=http%3A%2F%2F127.0.0.2%3A4321");
        assertEquals(200, page.status());
        assertEquals("frame-ancestors http://localhost:* http://127.0.0.1:* http://127.0.0.2:*",
                page.header("Content-Security-Policy"));
        assertTrue(anon.get("/widget/?placement=nope").body().contains("unknown placement"));
        JsonNode dash = newPublisher().get("/api/publisher/dashboard").ok(200).json();
        assertEquals(14, dash.get("earnings_by_day").size());
        assertEquals(0, dash.get("active_sessions_now").asInt());
    }
}
