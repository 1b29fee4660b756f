package io.earnidle.backend;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.publishers.PortalClient;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A stolen portal session cannot redirect payouts (issue 23, docs/security.md): changing a proved payout wallet
 * needs re-authentication (a fresh sign-in or the password), takes effect only after the configured delay, and
 * leaves a notice at once; until then the old wallet stays the payout address.
 */
@ServerTest
class PayoutWalletChangeTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final String PASSWORD = "correct horse battery";
    private final String base;

    PayoutWalletChangeTest(URI uri) {
        this.base = uri.toString().replaceAll("/$", "");
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of("earnidle.publishers.payout-wallet-change-delay-hours", "48",
                "earnidle.publishers.reauth-seconds", "600"), CLOCK);
    }

    private static PortalClient.Resp prove(PortalClient c, Credentials key, String password) {
        JsonNode ch = c.post("/api/publisher/payout-wallet/challenge",
                "{\"address\":\"" + key.getAddress() + "\"}").ok(200).json();
        String message = ch.path("message").asText();
        return c.post("/api/publisher/payout-wallet", "{\"challenge_id\":\"%s\",\"message\":%s,\"signature\":\"%s\"%s}"
                .formatted(ch.path("challenge_id").asText(), TestSupport.quote(message),
                        WalletTestSupport.personalSign(key, message),
                        password == null ? "" : ",\"password\":" + TestSupport.quote(password)));
    }

    @Test
    void aStolenSessionCannotRedirectPayouts() {
        PortalClient owner = new PortalClient(base).signUp("owner" + System.nanoTime() + "@example.org", PASSWORD);
        Credentials own = WalletTestSupport.newKey();
        String ownAddress = own.getAddress().toLowerCase();
        // the first wallet, right after signing up (a fresh sign-in is the re-authentication)
        assertEquals(ownAddress, prove(owner, own, null).ok(200).json().path("payout_address").asText());

        // later, an attacker holding the session cookie and CSRF token
        CLOCK.advance(Duration.ofMinutes(11));
        Credentials attacker = WalletTestSupport.newKey();
        String attackerAddress = attacker.getAddress().toLowerCase();
        assertTrue(prove(owner, attacker, null).problem(401, "unauthorized").contains("re-authentication"));
        prove(owner, attacker, "a guessed password").problem(401, "unauthorized");
        assertEquals(ownAddress, owner.get("/api/publisher/me").ok(200).json().path("payout_address").asText());

        // with the password, the change is only scheduled, and announced
        JsonNode pending = prove(owner, attacker, PASSWORD).ok(202).json();
        assertEquals(ownAddress, pending.path("payout_address").asText());
        assertEquals(attackerAddress, pending.path("pending_payout_address").asText());
        JsonNode notices = owner.get("/api/publisher/dashboard").ok(200).json().path("notices");
        assertTrue(notices.toString().contains(attackerAddress), notices.toString());

        CLOCK.advance(Duration.ofHours(48).minusSeconds(1));
        JsonNode me = owner.get("/api/publisher/me").ok(200).json();
        assertEquals(ownAddress, me.path("payout_address").asText(), "not before the delay");
        assertEquals(attackerAddress, me.path("pending_payout_address").asText());
        CLOCK.advance(Duration.ofSeconds(1));
        me = owner.get("/api/publisher/me").ok(200).json();
        assertEquals(attackerAddress, me.path("payout_address").asText(), "after the delay");
        assertTrue(me.path("pending_payout_address").isNull(), me.toString());
    }
}
