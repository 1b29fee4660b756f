package io.earnidle.backend;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static io.earnidle.backend.TestSupport.balance;
import static io.earnidle.backend.TestSupport.count;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A verification window keeps credits pending; the customer cannot commit more than it holds. */
@ServerTest
class PendingCreditsTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();

    private final Api api;

    PendingCreditsTest(Http1Client client) {
        this.api = new Api(client);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.ledger.verification-window-seconds", "3600",
                "earnidle.trust.sample-rate", "0", // synthetic results, paid unverified (docs/trust.md)
                "earnidle.rates.per-job-micro-usdc", "60000000",
                "earnidle.rates.per-token-micro-usdc", "0"), CLOCK);
    }

    @Test
    void creditsArePendingDuringTheWindowAndFundsAreChecked() {
        JsonNode job = api.submit("expensive", 4);
        assertEquals(60_000_000, job.path("price_micro_usdc").asLong());
        long jobs = count(backend.database(), "SELECT COUNT(*) AS n FROM jobs");
        // 100 USDC minus the 60 USDC committed to the open job leaves 40 USDC
        api.post("/api/jobs", CUSTOMER_KEY, "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"x\",\"max_tokens\":4}")
                .problem(402, "insufficient-funds");
        assertEquals(jobs, count(backend.database(), "SELECT COUNT(*) AS n FROM jobs"));

        String token = api.register();
        JsonNode lease = api.lease(token, job.path("id").asText());
        Resp r = api.result(token, Api.resultBody(lease, "e"), UUID.randomUUID().toString());
        assertEquals(200, r.status(), r.text());
        Ledger.Split split = Ledger.split(60_000_000, 1000, 2000);
        assertEquals(43_200_000, split.visitor());
        assertEquals(split.visitor(), r.json().path("payout_micro_usdc").asLong());
        assertEquals(0, r.json().path("balance_micro_usdc").asLong());
        assertEquals(split.visitor(), r.json().path("pending_micro_usdc").asLong());
        assertEquals(40_000_000, balance(backend.database(), Ledger.accountId("customer", "demo-customer")),
                "debits are immediate");
        assertLedgerConsistent(backend.database());

        CLOCK.advance(Duration.ofSeconds(3599));
        JsonNode me = api.get("/api/nodes/me", token).json();
        assertEquals(0, me.path("balance_micro_usdc").asLong());
        assertEquals(split.visitor(), me.path("pending_micro_usdc").asLong());

        CLOCK.advance(Duration.ofSeconds(2));
        me = api.get("/api/nodes/me", token).json();
        assertEquals(split.visitor(), me.path("balance_micro_usdc").asLong());
        assertEquals(0, me.path("pending_micro_usdc").asLong());
        assertLedgerConsistent(backend.database());
    }
}
