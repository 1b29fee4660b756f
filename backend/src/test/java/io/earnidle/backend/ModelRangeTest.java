package io.earnidle.backend;

import java.util.Arrays;
import java.util.Map;

import io.helidon.http.HeaderNames;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webclient.http1.Http1ClientResponse;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /models/{id}.gguf honours single byte ranges, so a node can resume an interrupted download. */
@ServerTest
class ModelRangeTest extends BackendServerTest {
    private final Http1Client client;

    ModelRangeTest(Http1Client client) {
        this.client = client;
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(), new TestSupport.MutableClock());
    }

    private record Got(int status, String contentRange, String acceptRanges, long length, byte[] body) {
    }

    private Got get(String range, String ifRange) {
        var req = client.get("/models/synthetic-tiny-f32.gguf");
        if (range != null) {
            req.header(HeaderNames.RANGE, range);
        }
        if (ifRange != null) {
            req.header(HeaderNames.IF_RANGE, ifRange);
        }
        try (Http1ClientResponse r = req.request()) {
            return new Got(r.status().code(), r.headers().first(HeaderNames.CONTENT_RANGE).orElse(null),
                    r.headers().first(HeaderNames.ACCEPT_RANGES).orElse(null),
                    r.headers().contentLength().orElse(-1),
                    r.entity().hasEntity() ? r.entity().as(byte[].class) : new byte[0]);
        }
    }

    @Test
    void rangesOfTheModelFile() {
        Got full = get(null, null);
        assertEquals(200, full.status());
        assertEquals("bytes", full.acceptRanges());
        byte[] all = full.body();
        int size = all.length;
        assertTrue(size > 1000);
        String etag = "\"" + io.earnidle.backend.http.Ids.sha256Hex(all) + "\"";

        Got tail = get("bytes=1000-", null);
        assertEquals(206, tail.status());
        assertEquals("bytes 1000-" + (size - 1) + "/" + size, tail.contentRange());
        assertEquals(size - 1000, tail.length());
        assertArrayEquals(Arrays.copyOfRange(all, 1000, size), tail.body());

        Got mid = get("bytes=10-19", etag);
        assertEquals(206, mid.status());
        assertEquals("bytes 10-19/" + size, mid.contentRange());
        assertArrayEquals(Arrays.copyOfRange(all, 10, 20), mid.body());

        Got suffix = get("bytes=-16", null);
        assertEquals(206, suffix.status());
        assertArrayEquals(Arrays.copyOfRange(all, size - 16, size), suffix.body());

        Got clipped = get("bytes=" + (size - 5) + "-" + (size + 100), null);
        assertEquals(206, clipped.status());
        assertEquals(5, clipped.body().length);

        Got beyond = get("bytes=" + size + "-", null);
        assertEquals(416, beyond.status());
        assertEquals("bytes */" + size, beyond.contentRange());

        // another version (If-Range mismatch), several ranges or a malformed header: the whole file
        for (String[] h : new String[][] {{"bytes=10-", "\"other\""}, {"bytes=0-1,5-6", null}, {"bytes=abc", null},
                {"bytes=9-3", null}, {"items=0-1", null}}) {
            Got g = get(h[0], h[1]);
            assertEquals(200, g.status(), Arrays.toString(h));
            assertArrayEquals(all, g.body());
        }
    }
}
