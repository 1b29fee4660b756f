package io.earnidle.backend;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;

import io.earnidle.backend.http.SecurityHeaders;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Clickjacking and injected script on the backend's own pages (issue 23, docs/security.md): the portal, the demo
 * page and the start page send a Content-Security-Policy with {@code frame-ancestors 'none'} and no inline script;
 * the widget page keeps its own policy (the placement's verified origins may frame it) and scripts get none.
 */
class SecurityHeadersTest {
    private static HttpResponse<String> get(EarnIdleServer s, String path) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    private static String csp(HttpResponse<String> r) {
        return r.headers().firstValue("Content-Security-Policy").orElse("");
    }

    @Test
    void portalAndDemoPagesCannotBeFramedOrRunInlineScript() throws Exception {
        Path dir = TestSupport.tempDir();
        try (EarnIdleServer s = EarnIdleServer.start(TestSupport.config(dir, Map.of("server.port", "0",
                "server.host", "127.0.0.1")))) {
            for (String path : new String[] {"/portal/", "/portal/index.html", "/demo/", "/"}) {
                HttpResponse<String> page = get(s, path);
                assertEquals(200, page.statusCode(), path);
                String policy = csp(page);
                assertTrue(policy.contains("frame-ancestors 'none'"), path + ": " + policy);
                assertFalse(policy.contains("unsafe-inline"), path + ": " + policy);
                assertEquals("DENY", page.headers().firstValue("X-Frame-Options").orElse(""), path);
                assertFalse(page.body().contains("<script>"), path + " has no inline script the policy would block");
            }
            assertEquals(SecurityHeaders.PORTAL, csp(get(s, "/portal/")));
            assertEquals(SecurityHeaders.DEMO, csp(get(s, "/demo/")));
            // the demo page's script and style are files of its own origin
            assertEquals(200, get(s, "/demo/demo.js").statusCode());
            assertEquals(200, get(s, "/demo/demo.css").statusCode());

            // the widget page keeps its own frame-ancestors (the demo placement's configured origins)
            HttpResponse<String> widget = get(s, "/widget/?placement=demo-placement");
            assertTrue(csp(widget).startsWith("frame-ancestors "), csp(widget));
            assertFalse(csp(widget).contains("'none'"), csp(widget));
            // scripts (a worker's policy comes from its script's response) are left alone
            assertEquals("", csp(get(s, "/demo/demo.js")));
        } finally {
            TestSupport.deleteTree(dir);
        }
    }
}
