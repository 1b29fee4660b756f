package io.earnidle.backend;

import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.db.StoredText;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Model output with U+0000 in it (an honest model can produce it: byte-level tokenizers have a token for byte 0x00)
 * is stored and returned as it was, on H2 and on PostgreSQL, whose text types cannot hold U+0000 (docs/protocol.md,
 * "Stored text").
 */
@ServerTest
class ModelOutputStorageTest extends BackendServerTest {
    /** U+0000, the stored form's escape character and what an escaped U+0000 looks like, among ordinary text. */
    private static final String TEXT = " a\u0000b " + StoredText.ESCAPE + "0 " + StoredText.ESCAPE + "\u0000\u00e9\\0";

    private final Api api;
    private final LeaseApi leases;

    ModelOutputStorageTest(Http1Client client) {
        this.api = new Api(client);
        this.leases = new LeaseApi(api);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        // synthetic results, paid unverified and at once (docs/trust.md)
        start(routing, Map.of("earnidle.ledger.verification-window-seconds", "0", "earnidle.trust.sample-rate", "0"),
                new TestSupport.MutableClock());
    }

    @Test
    void resultAndPartialTextWithNulComeBackAsTheyWere() {
        LeaseApi.Node node = leases.register(100_000);
        String jobId = api.submit("nul", 8).path("id").asText();
        JsonNode lease = api.lease(node.token(), jobId);

        Resp beat = leases.progress(node, lease, new int[] {0, 1}, TEXT.substring(0, 4));
        assertEquals(200, beat.status(), beat.text());
        assertEquals(TEXT.substring(0, 4), backend.leases().partialText(jobId).orElseThrow());
        beat = leases.progress(node, lease, new int[] {0, 1, 2}, TEXT);
        assertEquals(200, beat.status(), beat.text());
        assertEquals(TEXT, backend.leases().partialText(jobId).orElseThrow());

        String body = """
                {"job_id":"%s","lease_id":"%s","text":%s,"token_ids":[0,1,2,3],"token_count":4,"engine":"jvm",
                 "timing":{"prefill_ms":1.5,"decode_ms":2.25}}""".formatted(jobId, lease.path("lease_id").asText(),
                TestSupport.quote(TEXT));
        String key = UUID.randomUUID().toString();
        Resp accepted = api.result(node.token(), body, key);
        assertEquals(200, accepted.status(), accepted.text());
        // the retry is matched against the stored request
        Resp replayed = api.result(node.token(), body, key);
        assertEquals(200, replayed.status(), replayed.text());
        assertEquals(accepted.json(), replayed.json());

        JsonNode done = api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json();
        assertEquals("completed", done.path("status").asText());
        assertEquals(TEXT, done.path("result").path("text").asText());
        assertLedgerConsistent(backend.database());
    }
}
