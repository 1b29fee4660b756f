package io.earnidle.backend.publishers;

import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A browser-like API client: keeps cookies, sends the CSRF token it was given (also used by other test packages). */
public final class PortalClient {
    static final ObjectMapper MAPPER = new ObjectMapper();

    public record Resp(int status, HttpResponse<String> raw) {
        public JsonNode json() {
            try {
                return MAPPER.readTree(raw.body());
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + raw.body(), e);
            }
        }

        public String body() {
            return raw.body();
        }

        public String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }

        /** Asserts a problem+json with this status and type suffix; returns its detail. */
        public String problem(int expected, String type) {
            assertEquals(expected, status, raw.body());
            assertTrue(header("Content-Type").startsWith("application/problem+json"), header("Content-Type"));
            JsonNode p = json();
            assertEquals("https://earnidle.io/problems/" + type, p.path("type").asText(), raw.body());
            return p.path("detail").asText();
        }

        public Resp ok(int expected) {
            assertEquals(expected, status, raw.body());
            return this;
        }
    }

    final String base;
    final HttpClient http;
    public String csrf;
    /** Sent as X-Forwarded-For when set: what a reverse proxy in front of the backend adds. */
    public String forwardedFor;
    /** Sent as Origin when set: what a browser adds to a request another site's page makes. */
    public String origin;

    public PortalClient(String base) {
        this.base = base;
        this.http = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    public Resp send(String method, String path, String json) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (csrf != null) {
            b.header("X-CSRF-Token", csrf);
        }
        if (forwardedFor != null) {
            b.header("X-Forwarded-For", forwardedFor);
        }
        if (origin != null) {
            b.header("Origin", origin);
        }
        if (json != null) {
            b.header("Content-Type", "application/json");
            b.method(method, HttpRequest.BodyPublishers.ofString(json));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Resp(r.statusCode(), r);
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(method + " " + path + " failed", e);
        }
    }

    public Resp get(String path) {
        return send("GET", path, null);
    }

    public Resp post(String path, String json) {
        return send("POST", path, json);
    }

    /** Signs up (or in) and remembers the CSRF token. */
    public PortalClient signUp(String email, String password) {
        Resp r = post("/api/publisher/signup", "{\"email\":\"" + email + "\",\"password\":\"" + password + "\"}");
        assertEquals(201, r.status(), r.body());
        csrf = r.json().get("csrf_token").asText();
        return this;
    }

    public PortalClient signIn(String email, String password) {
        Resp r = post("/api/publisher/signin", "{\"email\":\"" + email + "\",\"password\":\"" + password + "\"}");
        assertEquals(200, r.status(), r.body());
        csrf = r.json().get("csrf_token").asText();
        return this;
    }
}
