package io.earnidle.backend;

import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.publishers.PortalClient;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.count;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Attack suite (issue 23, docs/security.md): cross-site request forgery on every state-changing portal action. A
 * page on another site can make the victim's browser send the session cookie (SameSite=Lax stops cross-site POSTs in
 * current browsers, but not same-site subdomains or older ones); it cannot read the CSRF token, and its requests carry
 * its own Origin. Each forged request is refused with 403 and changes nothing.
 */
@ServerTest
class PortalCsrfAttackTest extends BackendServerTest {
    private static final String PASSWORD = "correct horse battery";
    private final String base;

    PortalCsrfAttackTest(URI uri) {
        this.base = uri.toString().replaceAll("/$", "");
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(), Clock.systemUTC());
    }

    private record Action(String method, String path, String body) {
    }

    private static long rows() {
        return count(backend.database(), "SELECT (SELECT COUNT(*) FROM domains) + (SELECT COUNT(*) FROM placements)"
                + " + (SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL) + (SELECT COUNT(*) FROM payouts)"
                + " + (SELECT COUNT(*) FROM publisher_sessions) + (SELECT COUNT(*) FROM passkeys)"
                + " + (SELECT COUNT(*) FROM webauthn_challenges) AS n");
    }

    @Test
    void everyPortalActionIsRefusedWithoutTheTokenOrFromAnotherOrigin() {
        PortalClient victim = new PortalClient(base).signUp("victim" + System.nanoTime() + "@example.org", PASSWORD);
        String token = victim.csrf;
        JsonNode domain = victim.post("/api/publisher/domains", "{\"domain\":\"victim.example.test\"}").ok(201).json();
        String domainId = domain.path("id").asText();
        backend.database().execute().update("UPDATE domains SET status = 'verified', verified_at = ? WHERE id = ?",
                Database.ts(Instant.now()), domainId);
        victim.post("/api/publisher/placements", """
                {"id":"victim-p","name":"n","page_id":"home","domain":"victim.example.test","path_prefix":"/",
                 "publisher_share_bps":2000,
                 "limits":{"cpu_share":0.5,"gpu":false,"bandwidth_kbps":512,"memory_mb":1024}}""").ok(201);
        String keyId = victim.post("/api/customer/keys", "{\"name\":\"k\"}").ok(201).json().path("id").asText();

        List<Action> actions = List.of(
                new Action("POST", "/api/publisher/signout", null),
                new Action("POST", "/api/publisher/signout-everywhere", null),
                new Action("POST", "/api/publisher/passkeys/options", "{}"),
                new Action("POST", "/api/publisher/passkeys", "{}"),
                new Action("POST", "/api/publisher/domains", "{\"domain\":\"attacker.example.test\"}"),
                new Action("POST", "/api/publisher/domains/" + domainId + "/check", null),
                new Action("DELETE", "/api/publisher/domains/" + domainId, null),
                new Action("POST", "/api/publisher/placements", """
                        {"id":"forged","name":"n","page_id":"home","domain":"victim.example.test","path_prefix":"/",
                         "publisher_share_bps":2000,
                         "limits":{"cpu_share":0.5,"gpu":false,"bandwidth_kbps":512,"memory_mb":1024}}"""),
                new Action("PUT", "/api/publisher/placements/victim-p", """
                        {"name":"n","page_id":"home","domain":"victim.example.test","path_prefix":"/",
                         "publisher_share_bps":2000,"status":"paused",
                         "limits":{"cpu_share":0.5,"gpu":false,"bandwidth_kbps":512,"memory_mb":1024}}"""),
                new Action("DELETE", "/api/publisher/placements/victim-p", null),
                new Action("POST", "/api/publisher/payout-wallet/challenge",
                        "{\"address\":\"0x000000000000000000000000000000000000dEaD\"}"),
                new Action("POST", "/api/publisher/payout-wallet", "{}"),
                new Action("POST", "/api/publisher/withdrawals", "{\"amount_micro_usdc\":1000}"),
                new Action("POST", "/api/customer/keys", "{\"name\":\"attacker\"}"),
                new Action("POST", "/api/customer/keys/" + keyId + "/revoke", null));
        long before = rows();
        String status = Database.str(backend.database().execute()
                .get("SELECT status FROM placements WHERE id = 'victim-p'").orElseThrow(), "status");
        for (Action a : actions) {
            // the forging page cannot read the token: none, or a guess
            victim.csrf = null;
            victim.send(a.method(), a.path(), a.body()).problem(403, "csrf");
            victim.csrf = "0".repeat(48);
            victim.send(a.method(), a.path(), a.body()).problem(403, "csrf");
            // even with the token (say it leaked), a request from another origin is refused
            victim.csrf = token;
            victim.origin = "https://evil.example";
            victim.send(a.method(), a.path(), a.body()).problem(403, "csrf");
            victim.origin = null;
        }
        assertEquals(before, rows(), "no row added or removed");
        assertEquals(status, Database.str(backend.database().execute()
                .get("SELECT status FROM placements WHERE id = 'victim-p'").orElseThrow(), "status"));
        // the victim's own session still works, with its token, from its origin
        victim.origin = base;
        victim.get("/api/publisher/me").ok(200);
        victim.post("/api/customer/keys", "{\"name\":\"own\"}").ok(201);
    }
}
